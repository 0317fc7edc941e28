//! The command line: Helm-like flags, subcommands for the plugin author and the other modes.

use crate::error::{Error, Result};
use crate::layout::Target;
use crate::plugin::answer::Kind;
use crate::plugin::runtime::default_cache_dir;
use crate::plugin::{Answer, PluginOptions, Plugins};
use crate::values::set::Flag;
use crate::values::{self, Input, Values};
use crate::{emit, modes, rules};
use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Bots (values key `bot`):
  openab 0.8.2         the default: images ghcr.io/openabdev/openab*:0.8.2, `openab run` under tini
  agent-broker dd7e1ca the line before the rename (bot.line: agent-broker), images ghcr.io/thepagent/*

Examples:
  compose -f my-values.yaml > manifests.yaml
  compose -f my-values.yaml --set-string 'agents.kiro.discord.allowedChannels={123456789012345678}'
  compose -f my-values.yaml --plugin ./opencode.wasm --output-dir out/
  helm install ab ./chart -f my-values.yaml --post-renderer compose --post-renderer-args post-render
  compose plugin list
  compose plugin check ./my-plugin.wasm

Exit codes: 0 success, 2 bad input (values, flags, a plugin), 1 anything else.
Nothing is written to stdout unless every agent rendered.

Environment:
  COMPOSE_CACHE_DIR  folder for compiled plugins (default $XDG_CACHE_HOME/agent-broker-compose or
                     ~/.cache/agent-broker-compose; empty turns the cache off). It must be yours and
                     closed to group and others, or it is not used.
  COMPOSE_PLUGIN_COMPILE_TIMEOUT  seconds of CPU time a plugin may take to compile (default 20 plus
                     8 per MiB of plugin); past it the plugin is refused.";

#[derive(Parser, Debug)]
#[command(
    name = "compose",
    version,
    about = "Builds openab's Kubernetes manifests from one values file",
    long_about = "Builds the Kubernetes manifests of openab (formerly agent-broker; per agent a Deployment, \
                  ConfigMap and Secret) from one values file with an `agents:` map. Everything CLI-specific \
                  comes from a WebAssembly plugin per CLI (kiro, claude, codex, gemini, copilot, opencode and \
                  cursor are bundled). The chart's values.yaml is the base; -f files and --set merge on top \
                  with Helm's rules.",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render manifests (what `compose` does without a subcommand).
    Render(RenderArgs),
    /// Helm post-renderer: manifests on stdin, each AgentSet replaced by its agents' manifests.
    PostRender(PluginArgs),
    /// KRM function (kpt fn eval --exec): a ResourceList on stdin, a ResourceList on stdout.
    ///
    /// An AgentSet among the items stays (marked config.kubernetes.io/local-config) and its agents' objects
    /// follow in its namespace, each agent in `<agent>.yaml` beside it (shared objects in `_shared.yaml`);
    /// what an earlier run generated from it is replaced, so a second run gives the same package.
    Krm(PluginArgs),
    /// Print compose values for the values of an older chart: agent-broker's chart 0.3.x, or openab's chart 0.5 to 0.8.
    ///
    /// The chart is told by the values' shape: the one-agent charts (agent-broker's 0.3.x, openab's 0.5.x) have no
    /// `agents` map, and openab's 0.5 names its own image (`image.repository: ghcr.io/openabdev/...`); openab's
    /// chart 0.6 to 0.8 has an `agents` map and keys compose's values do not have (top-level `image`, an agent's
    /// `image` as a string, its `nameOverride`, `persistence.enabled`, `existingClaim`, `storageClass` or `size`,
    /// `secretEnv` as a list, a gateway's `image` string or `tag`). Values with `agents` and none of those are
    /// compose's own: exit 2, nothing to migrate.
    ///
    /// Every key is carried over or named in a warning on stderr that says why it has no place and what to do;
    /// the result is rendered before it is printed, and an error (exit 2) names the old key to fix.
    ///
    /// Chart 0.3.x: the result keeps the bot it ran, the pre-rename agent-broker line (`bot.line: agent-broker`,
    /// images at dd7e1ca), unless `--bot-line openab` moves it to openab 0.8.2.
    ///
    /// openab's chart: give the release's full values (`helm get values RELEASE --all -o yaml`, which include the
    /// chart's defaults) and `--release-name RELEASE`. The result runs openab 0.8.2 (compose writes its config)
    /// and keeps the release's object names and selector labels (`fullnameOverride`, `appNameLabel`): render it
    /// as the same release and every Deployment, ConfigMap and Secret of 0.6 to 0.8 is updated in place. Each
    /// agent's PVC is mounted at $HOME again (`persistence.volume.existingClaim`), so its login is kept. Inline
    /// tokens stay inline: compose's Secret has the name and keys of the one openab's chart made. An object
    /// compose cannot keep (0.5's one-agent objects, an agent's `nameOverride`, a name over 63 characters) is named
    /// in a warning with what to delete before applying, and why. The commands, in order: chart/README.md,
    /// "Moving a release of openab's own chart to compose".
    Migrate {
        /// The old values file; `-` reads stdin.
        #[arg(short = 'f', long = "values", value_name = "FILE")]
        values: String,
        /// The bot chart 0.3.x's values deploy: agent-broker (what it ran, the default) or openab. openab's chart's
        /// values always deploy openab.
        #[arg(long, value_name = "LINE", value_parser = ["agent-broker", "openab"])]
        bot_line: Option<String>,
        /// The Helm release the openab chart's values were installed as (`helm list`); needed for them.
        #[arg(long, value_name = "NAME")]
        release_name: Option<String>,
        #[command(flatten)]
        plugins: PluginArgs,
    },
    /// Inspect and check plugins: the plugin author's tools.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// List the loaded plugins: name, version, source, claimed commands.
    List(PluginArgs),
    /// Print a plugin's defaults for an agent with no values, as YAML.
    Inspect {
        /// A loaded plugin's name, or a .wasm file.
        #[arg(value_name = "NAME|FILE")]
        target: String,
        #[command(flatten)]
        plugins: PluginArgs,
    },
    /// Load a plugin file, call it with sample agents on each bot line and with the agents of the
    /// values files that use it, and check everything it returns as render does; prints its
    /// interface version, its answers, its warnings and the limits it enforces.
    Check {
        /// The .wasm file to check.
        file: PathBuf,
        /// The values (as render takes them) whose enabled agents that use this plugin (by `plugin`
        /// or by a command it claims) are checked too.
        #[command(flatten)]
        values: ValuesArgs,
    },
    /// Write a new plugin's folder NAME/ (source, build settings, a values file to try it with).
    New {
        /// The plugin's name, which is also the command it claims: lowercase letters, digits, '-'.
        name: String,
        /// The language: a Rust crate using compose-plugin-sdk (written beside it), JavaScript built with
        /// componentize-js, or Python built with componentize-py.
        #[arg(long, value_enum, default_value = "rust")]
        lang: crate::plugin::scaffold::Lang,
    },
}

#[derive(Args, Debug, Default)]
pub struct RenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Release name, as `helm install NAME`.
    #[arg(long, value_name = "NAME", default_value = "agent-broker")]
    pub release_name: String,
    /// Namespace written into every object (left out when not given).
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The cluster's Kubernetes version, as Helm's flag: versions older than the chart's
    /// kubeVersion (1.29, for the native sidecar of the S3 backup) are refused.
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Write one file per agent (DIR/NAME.yaml, and DIR/_shared.yaml for shared objects) instead of stdout. Files an
    /// earlier run wrote for agents no longer in the values are removed; other files are left alone.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

/// The values flags of render and `plugin check`: files and --set flags, merged as Helm merges them.
#[derive(Args, Debug, Default)]
pub struct ValuesArgs {
    /// Values file (YAML); repeatable, later files win; `-` reads stdin.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<String>,
    /// Set values, typed as Helm does (`a.b=1,a.c=true`, `a.list={x,y}`, `a.list[0].key=x` edits item 0
    /// of a list from -f; `\,` `\.` `\=` escape); repeatable. All --set flags apply after every -f file,
    /// in Helm's order: --set-json, --set, --set-string, --set-file, --set-literal.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set values as strings (use for Discord IDs); repeatable.
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set a value to the text of a file (`agents.kiro.agentsMd=AGENTS.md`; `-` is stdin); repeatable.
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set values from JSON (`a.tolerations=[{"key":"gpu"}]`), or merge a whole JSON object (`{"a":{...}}`,
    /// as Helm 4); repeatable.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set one string, taken as it is: no escapes, commas kept (`a.b=x,y`); repeatable.
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// No values given at all.
    pub fn is_empty(&self) -> bool {
        self.inputs().is_empty()
    }

    /// The inputs: every -f file, then the --set flags (Values::load applies those in Helm's order).
    pub fn inputs(&self) -> Vec<Input> {
        let sets = [
            (Flag::Typed, &self.set),
            (Flag::String, &self.set_string),
            (Flag::File, &self.set_file),
            (Flag::Json, &self.set_json),
            (Flag::Literal, &self.set_literal),
        ];
        (self.values.iter().map(|f| Input::File(f.clone())))
            .chain(
                sets.into_iter()
                    .flat_map(|(flag, args)| args.iter().map(move |arg| Input::Set { flag, arg: arg.clone() })),
            )
            .collect()
    }

    /// How the values are named in a report: the files, then the flags.
    pub fn shown(&self) -> String {
        let sets = [&self.set, &self.set_string, &self.set_file, &self.set_json, &self.set_literal];
        let mut shown: Vec<&str> = self.values.iter().map(String::as_str).collect();
        if sets.iter().any(|set| !set.is_empty()) {
            shown.push("the --set flags");
        }
        shown.join(", ")
    }
}

#[derive(Args, Debug, Default, Clone)]
pub struct PluginArgs {
    /// Load a plugin (.wasm); repeatable. It replaces a bundled plugin of the same name.
    #[arg(long = "plugin", value_name = "FILE")]
    pub plugin: Vec<PathBuf>,
    /// Load every .wasm file in DIR; repeatable.
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub plugin_dir: Vec<PathBuf>,
    /// Do not load the bundled plugins.
    #[arg(long)]
    pub no_bundled_plugins: bool,
}

impl PluginArgs {
    pub fn options(&self) -> PluginOptions {
        PluginOptions {
            files: self.plugin.clone(),
            dirs: self.plugin_dir.clone(),
            no_bundled: self.no_bundled_plugins,
            cache_dir: default_cache_dir(),
        }
    }
}

/// What a command produced: text for stdout, lines for stderr, and the exit code.
#[derive(Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: Vec<String>,
    /// Non-zero only where a failure still has output (a KRM ResourceList with its results).
    pub exit_code: i32,
}

impl Output {
    fn with_warnings(stdout: String, warnings: &[String]) -> Output {
        Output { stdout, stderr: warnings.iter().map(|w| format!("warning: {w}")).collect(), exit_code: 0 }
    }
}

pub fn run(cli: Cli) -> Result<Output> {
    match cli.command {
        None => render(cli.render),
        Some(Command::Render(args)) => render(args),
        Some(Command::Plugin(command)) => plugin(command),
        Some(Command::PostRender(plugins)) => {
            let (_, stream) = values::read_text("-", read_stdin)?;
            let (stdout, warnings) = modes::post_render::post_render(&stream, &plugins.options())?;
            Ok(Output::with_warnings(stdout, &warnings))
        }
        Some(Command::Krm(plugins)) => {
            let (_, input) = values::read_text("-", read_stdin)?;
            match modes::krm::run(&input, &plugins.options()) {
                (stdout, None) => Ok(Output { stdout, ..Output::default() }),
                // The ResourceList with its results still goes to stdout, for kpt to show.
                (stdout, Some(error)) => {
                    Ok(Output { stdout, stderr: vec![error.to_string()], exit_code: error.exit_code() })
                }
            }
        }
        Some(Command::Migrate { values: file, bot_line, release_name, plugins }) => {
            let (source, text) = values::read_text(&file, read_stdin)?;
            let bot_line =
                bot_line.map(|l| crate::layout::BotLine::from_name(&l).expect("clap allows only known lines"));
            let options = modes::migrate::Options { bot_line, release_name };
            let (stdout, warnings) = modes::migrate::migrate(&text, &source, &plugins.options(), &options)?;
            Ok(Output::with_warnings(stdout, &warnings))
        }
        Some(Command::Completion { shell }) => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "compose", &mut buf);
            Ok(Output { stdout: String::from_utf8_lossy(&buf).into_owned(), ..Output::default() })
        }
    }
}

fn render(args: RenderArgs) -> Result<Output> {
    rules::release_name(&args.release_name).map_err(|why| Error::input("--release-name", "", why))?;
    if let Some(ns) = &args.namespace {
        rules::namespace(ns).map_err(|why| Error::input("--namespace", "", why))?;
    }
    if let Some(version) = &args.kube_version
        && let Err(why) = rules::kube_version(version, crate::min_kube_version())
    {
        return Err(Error::input("--kube-version", "", format!("Kubernetes {version} {why}")));
    }
    let values = Values::load(&args.values.inputs(), read_stdin)?;
    let release = crate::release(&args.release_name, args.namespace.clone());
    let rendered = crate::render(&values, &release, &args.plugins.options())?;
    let mut out = Output::with_warnings(String::new(), &rendered.warnings);
    match &args.output_dir {
        Some(dir) => {
            let done = emit::to_dir(&rendered.documents, dir)?;
            out.stderr.extend(done.written.iter().map(|path| format!("wrote {}", path.display())));
            out.stderr.extend(done.removed.iter().map(|path| {
                let why = if path.ends_with(emit::SHARED_FILE) {
                    "no shared object is rendered any more"
                } else {
                    "its agent is no longer rendered"
                };
                format!("removed {} ({why})", path.display())
            }));
        }
        None => out.stdout = emit::to_yaml(&rendered.documents),
    }
    free_beside(rendered);
    Ok(out)
}

/// Frees a render's objects on a thread of its own, while the output is written: freeing 1000
/// agents' objects one by one costs about as much as checking their sizes (BENCHMARKS.md). The
/// command line exits before that thread is done; a caller of the library gets its memory back.
fn free_beside(rendered: crate::Rendered) {
    if rendered.documents.len() >= crate::parallel::DOCUMENTS_PER_THREAD {
        std::thread::spawn(move || drop(rendered));
    }
}

fn read_stdin() -> std::io::Result<String> {
    values::read_bounded(std::io::stdin().lock())
}

fn plugin(command: PluginCommand) -> Result<Output> {
    match command {
        PluginCommand::List(args) => {
            let plugins = Plugins::load(&args.options())?;
            let rows: Vec<[String; 6]> = plugins
                .iter()
                .map(|p| {
                    [
                        p.info.name.clone(),
                        p.info.version.clone(),
                        p.interface.version().to_string(),
                        p.origin.to_string(),
                        p.info.commands.join(","),
                        p.info.summary.clone(),
                    ]
                })
                .collect();
            Ok(Output {
                stdout: table(["NAME", "VERSION", "INTERFACE", "SOURCE", "COMMANDS", "SUMMARY"], &rows),
                ..Output::default()
            })
        }
        PluginCommand::Inspect { target: plugin, plugins } => {
            let mut loaded = Plugins::load(&plugins.options())?;
            let p = match loaded.find(&plugin)? {
                Some(i) => loaded.get(i),
                None => {
                    let known = loaded.summary();
                    return Err(Error::input(&plugin, "", format!("no plugin by that name; loaded: {known}")));
                }
            };
            let answer = p.defaults("example", &json!({}), "agents.example", &Target::default())?;
            let described = describe(p, &answer);
            Ok(Output { stdout: emit::to_document(&described), ..Output::default() })
        }
        PluginCommand::Check { file, values: given } => {
            let values = if given.is_empty() { None } else { Some(Values::load(&given.inputs(), read_stdin)?) };
            let shown = given.shown();
            let report = crate::plugin::check::check(&file, values.as_ref().map(|v| (v, shown.as_str())))?;
            Ok(Output { stdout: report.join("\n") + "\n", ..Output::default() })
        }
        PluginCommand::New { name, lang } => {
            let written = crate::plugin::scaffold::write(&name, lang, std::path::Path::new("."))?;
            Ok(Output { stdout: written, ..Output::default() })
        }
    }
}

fn describe(p: &crate::plugin::Plugin, answer: &Answer) -> Value {
    let defaults = match answer {
        Answer::Defaults(d) => json!({
            "image": d.image,
            "imageTag": d.image_tag,
            "command": d.command,
            "args": d.args,
            "home": d.home,
            "persist": d.persist.iter().map(|h| json!({"path": h.path, "kind": match h.kind {
                Some(Kind::File) => "file", Some(Kind::Directory) => "directory", None => "either" }})).collect::<Vec<_>>(),
            "disposable": d.disposable,
            "instructionFiles": d.instruction_files,
            "loginCommand": d.login_command,
            "env": d.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "warnings": d.warnings,
        }),
        Answer::Rejected(diagnostics) => json!({
            "rejected": diagnostics.iter().map(|(path, message)| json!({"path": path, "message": message})).collect::<Vec<_>>(),
        }),
    };
    json!({
        "plugin": {
            "name": p.info.name,
            "version": p.info.version,
            "summary": p.info.summary,
            "commands": p.info.commands,
            "interface": p.interface.version(),
            "source": p.origin.to_string(),
            "sha256": p.sha256,
        },
        "defaults": defaults,
    })
}

fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ");
        s.truncate(s.trim_end().len());
        s + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Writes the output: stdout only when there is something, stderr line by line.
pub fn print(out: &Output) -> std::io::Result<()> {
    for line in &out.stderr {
        eprintln!("{line}");
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.stdout.as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
