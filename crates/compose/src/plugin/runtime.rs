//! The sandbox: wasmtime's component model with no capabilities, a CPU deadline per call
//! (epoch interruption), a memory cap, and an on-disk cache of compiled plugins.

use anyhow::{Context, anyhow};
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../../schemas/plugin.wit",
    world: "compose-plugin",
});

pub use exports::agent_broker::compose_plugin::cli_plugin::{
    AgentDefaults, Diagnostic, HomePath, PathKind, PluginInfo,
};

/// The interface version this host speaks, and the export name a plugin must have.
pub const INTERFACE_VERSION: &str = "0.1.0";
const EXPORT_PREFIX: &str = "agent-broker:compose-plugin/cli-plugin@";

/// Limits of one plugin; generous for a plugin that returns a few hundred bytes.
pub const MEMORY_CAP: usize = 128 << 20;
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// A call may run this many ticks (about one second of wall time).
const CALL_DEADLINE_TICKS: u64 = 100;

pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    cache_dir: Option<PathBuf>,
    /// Why the cache folder given is not used, if it is not.
    pub cache_refused: Option<String>,
    ticker: Once,
}

/// Per-plugin state: an empty WASI context (no env, no files, no network, frozen clocks, fixed
/// random seed so output is reproducible) and the memory limits.
struct Sandbox {
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

/// A compiled, instantiated plugin, ready for calls.
pub struct Instance {
    store: Store<Sandbox>,
    bindings: ComposePlugin,
}

/// Why a plugin could not be used; the caller adds the file and the agent.
#[derive(Debug)]
pub enum PluginFault {
    /// The file is not a plugin this host can load (wrong format, world or version).
    Unusable(String),
    /// The plugin ran and misbehaved (trap, deadline, memory cap).
    Failed(String),
}

impl Runtime {
    pub fn new(cache_dir: Option<PathBuf>) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let (cache_dir, cache_refused) = match cache_dir.map(|d| private_folder(&d).map(|()| d)) {
            Some(Ok(dir)) => (Some(dir), None),
            Some(Err(why)) => (None, Some(why)),
            None => (None, None),
        };
        Ok(Runtime { engine, linker, cache_dir, cache_refused, ticker: Once::new() })
    }

    /// Checks the file's format, compiles it (or loads it from the cache), and instantiates it.
    /// `sha256` is the hex digest of `bytes`, the cache key.
    pub fn load(&self, bytes: &[u8], sha256: &str) -> Result<Instance, PluginFault> {
        check_format(bytes)?;
        let component = self.compile(bytes, sha256)?;
        check_export(&self.engine, &component)?;
        self.instantiate(&component)
    }

    fn compile(&self, bytes: &[u8], sha256: &str) -> Result<Component, PluginFault> {
        let unusable = |e: wasmtime::Error| {
            PluginFault::Unusable(format!("it is not a valid WebAssembly component: {}", root_cause(&e)))
        };
        let Some(entry) = self.cache_entry(sha256) else {
            return Component::new(&self.engine, bytes).map_err(unusable);
        };
        if let Some(component) = self.load_cached(&entry) {
            return Ok(component);
        }
        let compiled = self.engine.precompile_component(bytes).map_err(unusable)?;
        // A cache that cannot be written only costs time; the render goes on.
        let _ = store_cached(&entry, &compiled);
        // SAFETY: `compiled` was produced just now by this engine.
        unsafe { Component::deserialize(&self.engine, &compiled) }.map_err(unusable)
    }

    /// `<dir>/<sha256 of the plugin>-<engine fingerprint>.cwasm`: a new plugin, wasmtime version or
    /// engine setting never meets an old entry.
    fn cache_entry(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        Some(dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish())))
    }

    /// An entry is trusted only if its content digest (stored beside it) matches: a truncated,
    /// corrupt or foreign file is ignored and rebuilt, never handed to `deserialize`.
    fn load_cached(&self, entry: &Path) -> Option<Component> {
        let compiled = std::fs::read(entry).ok()?;
        let digest = std::fs::read_to_string(entry.with_extension("sha256")).ok()?;
        if digest.trim() != hex(&Sha256::digest(&compiled)) {
            return None;
        }
        // SAFETY: the folder is ours alone (`private_folder`), the bytes match the digest written
        // with them, and wasmtime checks its own version and settings in the header.
        unsafe { Component::deserialize(&self.engine, &compiled) }.ok()
    }

    fn instantiate(&self, component: &Component) -> Result<Instance, PluginFault> {
        self.ticker.call_once(|| {
            let engine = self.engine.clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        });
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
            .instances(64)
            .tables(64)
            .memories(16)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, Sandbox { wasi, stderr, table: ResourceTable::new(), limits });
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(CALL_DEADLINE_TICKS);
        let bindings = ComposePlugin::instantiate(&mut store, component, &self.linker).map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("import") {
                PluginFault::Unusable(format!(
                    "it needs an import compose does not give plugins (they get no capabilities): {text}"
                ))
            } else {
                fault(e, &store.data().stderr)
            }
        })?;
        Ok(Instance { store, bindings })
    }
}

impl Instance {
    pub fn info(&mut self) -> Result<PluginInfo, PluginFault> {
        self.store.set_epoch_deadline(CALL_DEADLINE_TICKS);
        let plugin = self.bindings.agent_broker_compose_plugin_cli_plugin();
        let result = plugin.call_info(&mut self.store);
        result.map_err(|e| fault(e, &self.store.data().stderr))
    }

    pub fn defaults(&mut self, agent_json: &str) -> Result<Result<AgentDefaults, Vec<Diagnostic>>, PluginFault> {
        self.store.set_epoch_deadline(CALL_DEADLINE_TICKS);
        let plugin = self.bindings.agent_broker_compose_plugin_cli_plugin();
        let result = plugin.call_defaults(&mut self.store, agent_json);
        result.map_err(|e| fault(e, &self.store.data().stderr))
    }
}

fn fault(e: wasmtime::Error, stderr: &MemoryOutputPipe) -> PluginFault {
    let why = match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            format!(
                "ran past its CPU deadline (about {} ms) and was stopped",
                CALL_DEADLINE_TICKS * EPOCH_TICK.as_millis() as u64
            )
        }
        _ if format!("{e:#}").contains("growing memory") => {
            format!("went over its memory cap of {} MiB", MEMORY_CAP >> 20)
        }
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

fn check_export(engine: &Engine, component: &Component) -> Result<(), PluginFault> {
    let exports: Vec<String> = component.component_type().exports(engine).map(|(name, _)| name.to_string()).collect();
    let wanted = format!("{EXPORT_PREFIX}{INTERFACE_VERSION}");
    if exports.contains(&wanted) {
        return Ok(());
    }
    if let Some(other) = exports.iter().find_map(|e| e.strip_prefix(EXPORT_PREFIX)) {
        return Err(PluginFault::Unusable(format!(
            "it speaks plugin interface {other}; this compose speaks {INTERFACE_VERSION} (agent-broker:compose-plugin@{INTERFACE_VERSION})"
        )));
    }
    Err(PluginFault::Unusable(format!(
        "it does not export `{wanted}` (it exports: {}); build it against schemas/plugin.wit",
        if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
    )))
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

fn store_cached(entry: &Path, compiled: &[u8]) -> anyhow::Result<()> {
    let dir = entry.parent().ok_or_else(|| anyhow!("cache entry has no folder"))?;
    // Write beside, then rename: a reader never sees half a file under the final name.
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), entry.file_name().unwrap().to_string_lossy()));
    std::fs::write(&tmp, compiled)?;
    std::fs::write(tmp.with_extension("sha256"), hex(&Sha256::digest(compiled)))?;
    std::fs::rename(tmp.with_extension("sha256"), entry.with_extension("sha256"))?;
    std::fs::rename(&tmp, entry).context("cache write")?;
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
