use clap::Parser;

// Rendering builds and frees many small objects; mimalloc does that markedly faster than glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // mimalloc asks for transparent huge pages; the kernel then zeroes 2 MiB on a first touch, more
    // than a whole small render costs (about 1 ms of 9 for 4 agents, measured in BENCHMARKS.md).
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let cli = compose::cli::Cli::parse();
    let code = match compose::cli::run(cli) {
        Ok(out) => match compose::cli::print(&out) {
            Ok(()) => out.exit_code,
            // A closed pipe (`compose | head`) is not worth a message.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                eprintln!("error: cannot write output: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
