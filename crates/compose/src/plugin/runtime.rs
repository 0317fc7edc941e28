//! The sandbox: wasmtime's component model with no capabilities. A plugin is compiled once
//! (bounded in time, cached on disk) and linked once; every call then runs on a fresh instance in a
//! fresh store, with a fuel budget for its CPU work, a wall-clock backstop and a memory cap.

use super::interface::{Bindings, DefaultsAnswer, Interface, PluginInfo};
use crate::layout::Target;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Memory one call may use, in bytes; generous for a plugin that returns a few hundred bytes.
pub const MEMORY_CAP: usize = 128 << 20;
/// CPU budget of one call, in wasmtime fuel (about one unit per WebAssembly instruction: a third
/// of a second to a second of work on a 2026 server core). A bundled plugin's call takes about
/// 120,000 and the JavaScript example's about 2 million, instantiation included.
/// Fuel counts only the plugin's own work, so a busy machine neither stops a fair plugin nor
/// gives a loop longer.
pub const FUEL_PER_CALL: u64 = 1_000_000_000;
/// Core instances, tables and linear memories one call may create (a Rust plugin makes a few; a
/// componentize-js one some more).
pub const INSTANCES_PER_CALL: u32 = 64;
pub const TABLES_PER_CALL: u32 = 64;
pub const MEMORIES_PER_CALL: u32 = 16;
/// Elements one table may hold (wasmtime's pooling default is 20,000; a JavaScript engine's
/// function table is the largest a plugin has).
const TABLE_ELEMENTS: usize = 100_000;
/// Memory a finished call's linear memory keeps mapped for the next, in bytes: it is reset with
/// `memset` (only the pages the call touched), not returned to the kernel and faulted in again.
const MEMORY_KEPT_RESIDENT: usize = 4 << 20;
/// The wall-clock backstop of one call (epoch interruption), for what fuel does not meter.
pub const CALL_WALL_LIMIT: Duration = Duration::from_secs(10);
const EPOCH_TICK: Duration = Duration::from_millis(100);
/// Largest plugin file read, in bytes (a componentize-js plugin is about 12 MB).
pub const MAX_PLUGIN_BYTES: u64 = 64 << 20;
/// Largest compiled-cache entry read, in bytes (native code is a few times the component).
const MAX_CACHE_ENTRY_BYTES: u64 = 8 * MAX_PLUGIN_BYTES;
/// CPU time allowed to compile a plugin: a base plus so much per MiB of component, generous enough
/// for a 12 MB JavaScript component on a slow machine (it took 32 s of CPU on a busy 2026 server,
/// whose limit is then 116 s). It is
/// the process's CPU time, so a busy machine does not shorten it. Cranelift cannot be interrupted:
/// past the limit compose gives up waiting (the compiling thread dies with the process).
pub const COMPILE_SECONDS_BASE: u64 = 20;
pub const COMPILE_SECONDS_PER_MIB: u64 = 8;
/// How long a compile runs before compose says on stderr that it is compiling.
const COMPILE_ANNOUNCE_AFTER: Duration = Duration::from_secs(1);
/// Overrides the compile time limit, in seconds of CPU time (a slow CI machine).
pub const COMPILE_TIMEOUT_ENV: &str = "COMPOSE_PLUGIN_COMPILE_TIMEOUT";
/// First line of a compiled-cache entry; the next two hold the plugin's and the code's sha256.
const CACHE_MAGIC: &[u8] = b"compose-plugin-cache 1\n";

/// The engine settings, in one place: the host and the ahead-of-time compile of the bundled plugins
/// ([`precompile_for`]) must agree on every one, or wasmtime refuses the precompiled code.
pub fn engine_config() -> Config {
    let mut config = Config::new();
    config.consume_fuel(true);
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    config
}

/// The target the bundled plugins are compiled for ahead of time: x86_64 Linux with no CPU feature
/// beyond the baseline (SSE2), so the code runs on any x86_64 machine. Elsewhere they are compiled
/// on first use and cached, like any plugin.
pub const PRECOMPILED_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Compiles a plugin ahead of time for `target` (a target triple) with the host's engine
/// settings: what [`Runtime::load_bundled`] loads without compiling.
pub fn precompile_for(bytes: &[u8], target: &str) -> wasmtime::Result<Vec<u8>> {
    let mut config = engine_config();
    config.target(target)?;
    Engine::new(&config)?.precompile_component(bytes)
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    cache_dir: Option<PathBuf>,
    /// Why the cache folder given is not used, if it is not.
    pub cache_refused: Option<String>,
    ticker: Once,
}

/// One call's state: an empty WASI context (no env, no files, no network, frozen clocks, fixed
/// random seed so output is reproducible) and the memory limits.
pub struct Sandbox {
    wasi: WasiCtx,
    /// The plugin's stderr, kept (bounded) for error messages; nothing reaches the terminal.
    stderr: MemoryOutputPipe,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A compiled and linked plugin, bound to the interface version it is built for. Each call
/// instantiates it afresh in its own store, so nothing a call leaves behind (globals, a trap, an
/// RNG position) reaches the next; it is `Send + Sync`.
pub struct Prepared {
    bindings: Bindings<Sandbox>,
}

/// Why a plugin could not be used; the caller adds the file and the agent.
#[derive(Debug)]
pub enum PluginFault {
    /// The file is not a plugin this host can load (wrong format, world or version).
    Unusable(String),
    /// The plugin ran and misbehaved (trap, fuel, deadline, memory cap).
    Failed(String),
}

/// wasmtime's pooling allocator, sized for the calls that can run at once (one per render thread,
/// [`crate::parallel::threads`]), each within the per-call limits above. Instances come from slots
/// reserved once, and a slot keeps its plugin's memory image mapped: a call costs no `mmap`,
/// `munmap` or `mprotect`, which on a multi-threaded process also means no TLB shootdown on
/// every core (about a third of the time of 1000 calls, BENCHMARKS.md).
fn pooling() -> InstanceAllocationStrategy {
    let calls = crate::parallel::threads() as u32;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(calls)
        .total_core_instances(calls * INSTANCES_PER_CALL)
        .max_core_instances_per_component(INSTANCES_PER_CALL)
        .total_tables(calls * TABLES_PER_CALL)
        .max_tables_per_component(TABLES_PER_CALL)
        .max_tables_per_module(TABLES_PER_CALL)
        .table_elements(TABLE_ELEMENTS)
        .total_memories(calls * MEMORIES_PER_CALL)
        .max_memories_per_component(MEMORIES_PER_CALL)
        .max_memory_size(MEMORY_CAP)
        .linear_memory_keep_resident(MEMORY_KEPT_RESIDENT)
        .table_keep_resident(MEMORY_KEPT_RESIDENT)
        // With the kernel's PAGEMAP_SCAN (Linux 6.7) only the pages a call wrote are reset.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .total_stacks(0);
    InstanceAllocationStrategy::Pooling(pool)
}

impl Runtime {
    /// The engine uses the pooling allocator; where its address-space reservation (some 4 GiB per
    /// memory slot) is refused (a `ulimit -v`), every call allocates its own memory instead.
    pub fn new(cache_dir: Option<PathBuf>) -> wasmtime::Result<Self> {
        let engine =
            Engine::new(engine_config().allocation_strategy(pooling())).or_else(|_| Engine::new(&engine_config()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let (cache_dir, cache_refused) = match cache_dir.map(|d| private_folder(&d).map(|()| d)) {
            Some(Ok(dir)) => (Some(dir), None),
            Some(Err(why)) => (None, Some(why)),
            None => (None, None),
        };
        Ok(Runtime { engine, linker, cache_dir, cache_refused, ticker: Once::new() })
    }

    /// Checks the file's format, compiles it (or loads it from the cache) and links it.
    /// `sha256` is the hex digest of `bytes`, the cache key.
    pub fn load(&self, bytes: &[u8], sha256: &str) -> Result<Prepared, PluginFault> {
        check_format(bytes)?;
        let component = self.compile(bytes, sha256)?;
        self.link(&component)
    }

    /// Loads a bundled plugin from its code compiled ahead of time (`native`, see
    /// plugins/bundle.rs) when wasmtime accepts that code for this engine; else compiles `wasm` like
    /// any plugin (and caches it). `Component::deserialize` refuses code from another wasmtime
    /// version, other engine settings, another target, or using a CPU feature this CPU lacks.
    pub fn load_bundled(&self, wasm: &[u8], native: &[u8], sha256: &str) -> Result<Prepared, PluginFault> {
        // SAFETY: `native` is compiled into this binary (plugins/build made it from the bundled
        // plugin), so it is exactly as trusted as the binary itself.
        match unsafe { Component::deserialize(&self.engine, native) } {
            Ok(component) => self.link(&component),
            Err(_) => self.load(wasm, sha256),
        }
    }

    /// Finds the interface version the component is built for from its exports, and links it
    /// against WASI (no capabilities).
    fn link(&self, component: &Component) -> Result<Prepared, PluginFault> {
        let interface = Interface::of(&self.engine, component).map_err(PluginFault::Unusable)?;
        let pre = self.linker.instantiate_pre(component).map_err(|e| {
            PluginFault::Unusable(format!(
                "it needs an import compose does not give plugins (they get no capabilities): {e:#}"
            ))
        })?;
        let bindings = Bindings::new(interface, pre).map_err(|e| PluginFault::Unusable(root_cause(&e)))?;
        self.start_ticker();
        Ok(Prepared { bindings })
    }

    fn compile(&self, bytes: &[u8], sha256: &str) -> Result<Component, PluginFault> {
        let unusable = |e: wasmtime::Error| {
            PluginFault::Unusable(format!("it is not a valid WebAssembly component: {}", root_cause(&e)))
        };
        let entry = self.cache_entry(sha256);
        if let Some(component) = entry.as_deref().and_then(|e| self.load_cached(e, sha256)) {
            return Ok(component);
        }
        let compiled = self.precompile(bytes)?.map_err(unusable)?;
        if let Some(entry) = &entry {
            // A cache that cannot be written only costs time; the render goes on.
            let _ = store_cached(entry, sha256, &compiled);
        }
        // SAFETY: `compiled` was produced just now by this engine.
        unsafe { Component::deserialize(&self.engine, &compiled) }.map_err(unusable)
    }

    /// Compiles on a thread of its own and gives up once the process has spent the compile time
    /// limit in CPU time since the start (so a busy machine does not fail a fair plugin).
    fn precompile(&self, bytes: &[u8]) -> Result<wasmtime::Result<Vec<u8>>, PluginFault> {
        let limit = compile_limit(bytes.len());
        let (engine, bytes) = (self.engine.clone(), bytes.to_vec());
        let (done, result) = std::sync::mpsc::sync_channel(1);
        let started = process_cpu_time();
        let size_mb = bytes.len() as f64 / 1e6;
        std::thread::spawn(move || done.send(engine.precompile_component(&bytes)));
        let announce_at = std::time::Instant::now() + COMPILE_ANNOUNCE_AFTER;
        let mut announced = false;
        loop {
            // A big plugin (a JavaScript one is 12 MB) compiles for up to a minute: say so, once.
            if !announced && std::time::Instant::now() >= announce_at {
                announced = true;
                let later = if self.cache_dir.is_some() { "once, then it is cached" } else { "(no cache)" };
                eprintln!("compose: compiling a plugin of {size_mb:.1} MB; this takes up to a minute {later}");
            }
            match result.recv_timeout(Duration::from_millis(100)) {
                Ok(compiled) => return Ok(compiled),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PluginFault::Unusable("it crashed the compiler".into()));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if process_cpu_time() - started > limit => {
                    return Err(PluginFault::Unusable(format!(
                        "it did not compile within {} s of CPU time (the limit is {COMPILE_SECONDS_BASE} s plus \
                         {COMPILE_SECONDS_PER_MIB} s per MiB; {COMPILE_TIMEOUT_ENV} sets another)",
                        limit.as_secs_f64()
                    )));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// `<dir>/<sha256 of the plugin>-<engine fingerprint>.cwasm`: a new plugin, wasmtime version or
    /// engine setting never meets an old entry.
    fn cache_entry(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        Some(dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish())))
    }

    /// An entry is trusted only if it is a regular file (never a link), names this plugin's
    /// digest in its header, and its code matches the digest written with it: a truncated,
    /// corrupt, foreign or copied entry is ignored and rebuilt, never handed to `deserialize`.
    fn load_cached(&self, entry: &Path, sha256: &str) -> Option<Component> {
        let bytes = read_regular_file(entry, false, MAX_CACHE_ENTRY_BYTES).ok()?;
        let rest = bytes.strip_prefix(CACHE_MAGIC)?;
        let (plugin_digest, rest) = (rest.get(..64)?, rest.get(65..)?);
        let (code_digest, compiled) = (rest.get(..64)?, rest.get(65..)?);
        if plugin_digest != sha256.as_bytes() || code_digest != format!("{:x}", Sha256::digest(compiled)).as_bytes() {
            return None;
        }
        // SAFETY: the folder is ours alone (`private_folder`), the bytes match the digest written
        // with them for this very plugin, and wasmtime checks its own version and settings.
        unsafe { Component::deserialize(&self.engine, compiled) }.ok()
    }

    /// The epoch ticker behind the wall-clock backstop: one thread per process.
    fn start_ticker(&self) {
        self.ticker.call_once(|| {
            let engine = self.engine.clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        });
    }
}

fn process_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn compile_limit(size: usize) -> Duration {
    let configured = std::env::var(COMPILE_TIMEOUT_ENV).ok().and_then(|s| s.parse::<f64>().ok());
    match configured {
        Some(seconds) if seconds > 0.0 => Duration::from_secs_f64(seconds),
        _ => Duration::from_secs(COMPILE_SECONDS_BASE + COMPILE_SECONDS_PER_MIB * (size as u64).div_ceil(1 << 20)),
    }
}

impl Prepared {
    /// The interface version the plugin is built for.
    pub fn interface(&self) -> Interface {
        self.bindings.interface()
    }

    pub fn info(&self) -> Result<PluginInfo, PluginFault> {
        self.call(|bindings, store| bindings.info(store))
    }

    /// One agent's defaults for `target` (which a 0.1.0 plugin is not told).
    pub fn defaults(&self, agent_json: &str, target: &Target) -> Result<DefaultsAnswer, PluginFault> {
        self.call(|bindings, store| bindings.defaults(store, agent_json, target))
    }

    /// One call on a fresh instance in a fresh store; instantiation (start functions included)
    /// counts against the same budget.
    fn call<R>(
        &self,
        f: impl FnOnce(&Bindings<Sandbox>, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginFault> {
        let mut store = sandbox(self.bindings.engine());
        f(&self.bindings, &mut store).map_err(|e| fault(e, &store.data().stderr))
    }
}

fn sandbox(engine: &Engine) -> Store<Sandbox> {
    let stderr = MemoryOutputPipe::new(4096);
    let wasi = WasiCtx::builder()
        .stderr(stderr.clone())
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(rand::rngs::StdRng::seed_from_u64(0))
        .insecure_random(rand::rngs::StdRng::seed_from_u64(0))
        .insecure_random_seed(0)
        .build();
    let limits = StoreLimitsBuilder::new()
        .memory_size(MEMORY_CAP)
        .instances(INSTANCES_PER_CALL as usize)
        .tables(TABLES_PER_CALL as usize)
        .memories(MEMORIES_PER_CALL as usize)
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(engine, Sandbox { wasi, stderr, table: ResourceTable::new(), limits });
    store.limiter(|s| &mut s.limits);
    store.set_fuel(FUEL_PER_CALL).expect("fuel is enabled");
    store.set_epoch_deadline(CALL_WALL_LIMIT.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64);
    store
}

fn fault(e: wasmtime::Error, stderr: &MemoryOutputPipe) -> PluginFault {
    let why = match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => {
            format!("used up its CPU budget of {FUEL_PER_CALL} fuel and was stopped")
        }
        Some(wasmtime::Trap::Interrupt) => {
            format!("ran past its wall-clock deadline of {} s and was stopped", CALL_WALL_LIMIT.as_secs())
        }
        _ if format!("{e:#}").contains("growing memory") => {
            format!("went over its memory cap of {} MiB", MEMORY_CAP >> 20)
        }
        // componentize-js and componentize-py trap here when an answer does not fit the WIT: the
        // host never sees the answer, so it can only say where to look.
        Some(wasmtime::Trap::UnreachableCodeReached) => format!(
            "crashed ({}); a JavaScript or Python plugin crashes so when its answer does not fit the WIT \
             (a missing field, a string where a list is expected, a kind other than \"file\" or \"directory\", a thrown \
             value that is not a list of diagnostics): check it as the scaffold's checkAnswer/check_answer does",
            wasmtime::Trap::UnreachableCodeReached
        ),
        Some(trap) => format!("crashed ({trap})"),
        None => format!("failed: {}", root_cause(&e)),
    };
    // What the plugin printed before it died (a Rust panic message, say) is the best clue.
    let printed = String::from_utf8_lossy(&stderr.contents()).trim().replace('\n', " | ");
    let printed: String = printed.chars().take(300).filter(|c| !c.is_control()).collect();
    PluginFault::Failed(if printed.is_empty() { why } else { format!("{why}; it printed: {printed}") })
}

/// The innermost message of an error chain, without wasm backtraces.
fn root_cause(e: &wasmtime::Error) -> String {
    e.chain().last().map_or_else(|| e.to_string(), |c| c.to_string())
}

fn check_format(bytes: &[u8]) -> Result<(), PluginFault> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(PluginFault::Unusable("it is not a WebAssembly file (no `\\0asm` header)".into()));
    }
    // Bytes 4..8 are the version and layer: 1,0,0,0 for a core module; 0x0d,0,1,0 for a component.
    if bytes[6..8] == [0, 0] {
        return Err(PluginFault::Unusable(
            "it is a core WebAssembly module, not a component: build for wasm32-wasip2, or wrap it with \
             `wasm-tools component new`"
                .into(),
        ));
    }
    Ok(())
}

/// The cache holds native code that is run: a folder another user can write to would let them run
/// theirs. Only a folder of ours, closed to group and others, is used; it is created that way.
fn private_folder(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        let shown = dir.display();
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("plugin cache {shown} cannot be created ({e})"))?;
        }
        let meta = std::fs::metadata(dir).map_err(|e| format!("plugin cache {shown} cannot be read ({e})"))?;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(format!("plugin cache {shown} belongs to another user"));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!("plugin cache {shown} is writable by group or others"));
        }
    }
    Ok(())
}

/// Writes `<magic><plugin sha256>\n<code sha256>\n<code>` beside the entry, then renames it in:
/// a reader never sees half a file under the final name.
fn store_cached(entry: &Path, sha256: &str, compiled: &[u8]) -> std::io::Result<()> {
    let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = entry.with_file_name(format!(".tmp-{}-{name}", std::process::id()));
    // `create_new` never follows or reuses what is already at that name.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    let header = format!("{sha256}\n{:x}\n", Sha256::digest(compiled));
    let written = [CACHE_MAGIC, header.as_bytes(), compiled].iter().try_for_each(|part| file.write_all(part));
    match written.and_then(|()| std::fs::rename(&tmp, entry)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Reads a regular file of at most `cap` bytes. A FIFO, a device or a folder is refused before
/// a byte is read (the open does not wait for a FIFO's writer); with `follow_links` false a
/// symbolic link is refused too. Errors are short phrases for a message (`not a regular file`).
pub fn read_regular_file(path: &Path, follow_links: bool, cap: u64) -> Result<Vec<u8>, String> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if !follow_links {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| match e {
        rustix::io::Errno::NOENT => "no such file".to_string(),
        rustix::io::Errno::LOOP if !follow_links => "a symbolic link".to_string(),
        e => std::io::Error::from(e).to_string(),
    })?;
    let mut file = std::fs::File::from(fd);
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a FIFO, a device or a folder)".into());
    }
    if meta.len() > cap {
        return Err(format!("{} bytes, more than the {cap} allowed", meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read still stops at the cap.
    (&mut file).take(cap + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("more than the {cap} bytes allowed"));
    }
    Ok(bytes)
}

/// Default cache folder: `$COMPOSE_CACHE_DIR`, else `$XDG_CACHE_HOME/agent-broker-compose`,
/// else `~/.cache/agent-broker-compose`. An empty `COMPOSE_CACHE_DIR` turns the cache off.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("COMPOSE_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("agent-broker-compose"))
}
