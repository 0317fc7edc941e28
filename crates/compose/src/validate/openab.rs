//! The keys of openab's config (v0.8.2 `src/config.rs`) that the pre-rename line lacks, checked as
//! openab checks them when it starts (`src/main.rs`, `src/cron.rs` `validate_cronjobs`), so that a
//! value openab would refuse, or silently ignore, stops the render instead of the pod.

use super::agent::secret_source;
use crate::error::Diagnostic;
use crate::layout::{OWN_ENV, Target};
use crate::rules;
use crate::spec::AgentValues;
use crate::values::Values;
use crate::values::path::YamlPath;
use std::str::FromStr;

/// The agent's keys that only openab's config has, as paths under `agents.<name>`. On the
/// pre-rename line each is refused when given, since its config.toml has no place for it.
pub(super) const OPENAB_KEYS: &[&[&str]] = &[
    &["discord", "allowedUsers"],
    &["discord", "allowAllUsers"],
    &["discord", "allowDm"],
    &["discord", "allowBotMessages"],
    &["discord", "trustedBotIds"],
    &["discord", "allowUserMessages"],
    &["discord", "maxBotTurns"],
    &["reactions", "toolDisplay"],
    &["stt"],
    &["markdown"],
    &["cron"],
    &["cronjobs"],
    &["inheritEnv"],
];

/// Refuses openab's keys for the pre-rename line (`target`), naming each one given (an empty
/// list, mapping or null counts as not given), and the adapters only openab has when enabled.
pub(super) fn keys_given(
    values: &Values,
    at: &YamlPath,
    agent: &AgentValues,
    target: &Target,
    problems: &mut Vec<Diagnostic>,
) {
    let given_paths = OPENAB_KEYS.iter().filter(|path| {
        path.iter().fold(at.clone(), |p, k| p.key(k)).lookup(&values.merged).is_some_and(|v| match v {
            serde_json::Value::Null => false,
            serde_json::Value::Array(a) => !a.is_empty(),
            serde_json::Value::Object(m) => !m.is_empty(),
            _ => true,
        })
    });
    let adapters = [
        (&["discord", "enabled"][..], !agent.discord.enabled),
        (&["slack"][..], agent.slack.enabled),
        (&["gateway"][..], agent.gateway.enabled),
    ];
    let given_adapters = adapters.iter().filter(|(_, on)| *on).map(|(path, _)| path);
    for path in given_paths.chain(given_adapters) {
        problems.push(values.diagnostic(
            &path.iter().fold(at.clone(), |p, k| p.key(k)),
            format!(
                "`{}` is a key of openab's config, and bot.line is {} ({}), whose bot serves Discord only: \
                 remove it, or deploy openab (bot.line: openab)",
                path.join("."),
                target.line.name(),
                target.version
            ),
        ));
    }
}

/// openab's own start-up checks, and compose's rules for its keys.
pub(super) fn problems(
    values: &Values,
    at: &YamlPath,
    agent: &AgentValues,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    stt(values, &at.key("stt"), agent, problems);
    inherit_env(values, at, agent, problems);
    for (i, job) in agent.cronjobs.iter().enumerate() {
        cron_job(values, &at.key("cronjobs").index(i), agent, job, problems, warnings);
    }
}

/// `stt.enabled` needs a key (openab `src/main.rs` refuses to start without one); the key goes to
/// config.toml only as `${STT_API_KEY}`, so it is checked as a token is.
fn stt(values: &Values, at: &YamlPath, agent: &AgentValues, problems: &mut Vec<Diagnostic>) {
    let stt = &agent.stt;
    if stt.enabled {
        secret_source(
            values,
            at,
            "apiKey",
            "API key",
            !stt.api_key.is_empty(),
            stt.existing_secret.is_some(),
            problems,
        );
    }
    if let Err(why) = rules::bot_token(&stt.api_key) {
        problems.push(values.diagnostic(&at.key("apiKey"), format!("the API key {why}")));
    }
}

/// `inheritEnv` names variables the agent container has from elsewhere (`envFrom`, the image):
/// the ones compose already passes, and the bot's own secrets, are refused.
fn inherit_env(values: &Values, at: &YamlPath, agent: &AgentValues, problems: &mut Vec<Diagnostic>) {
    for (i, name) in agent.inherit_env.iter().enumerate() {
        let given = [("env", agent.env.contains_key(name)), ("secretEnv", agent.secret_env.contains_key(name))]
            .into_iter()
            .chain([("envValueFrom", agent.env_value_from.contains_key(name))])
            .find_map(|(key, has)| has.then_some(key));
        let why = if let Some(key) = given {
            Some(format!("{name} is in `{key}`, which reaches the CLI already; list it once"))
        } else if ["HOME", "PATH", "USER"].contains(&name.as_str()) {
            Some(format!("openab passes {name} to the CLI itself"))
        } else if OWN_ENV.contains(&name.as_str()) {
            Some(format!(
                "{name} holds the bot's own secret, which openab keeps from the CLI (it starts the CLI with a \
                 cleared environment so that a prompt cannot read the bot's tokens)"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            problems.push(values.diagnostic(&at.key("inheritEnv").index(i), why));
        }
    }
}

/// The five fields as the `cron` crate 0.16 takes them (its `Schedule` grammar), for messages.
const CRON_FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day of week", "1-7 (1 is Sunday) or SUN-SAT"),
];

/// Which of five fields the `cron` crate refuses, found by reading each alone among `*`s: the
/// crate's own message speaks of the six-field form openab hands it (seconds first), whose
/// positions the user never wrote.
fn cron_fault(fields: &[&str]) -> String {
    let refused = (0..fields.len()).find(|&i| {
        let alone: Vec<&str> = (0..fields.len()).map(|j| if i == j { fields[i] } else { "*" }).collect();
        cron::Schedule::from_str(&format!("0 {}", alone.join(" "))).is_err()
    });
    match refused {
        Some(i) => {
            let (name, range) = CRON_FIELDS[i];
            format!(
                "its {name} field {:?} is refused (field {} of 5: {range}, lists a,b, ranges a-b, steps */n)",
                fields[i],
                i + 1
            )
        }
        // Each field is fine alone: the crate refuses the combination.
        None => "the fields are each valid but refused together (e.g. a day of month no month has)".into(),
    }
}

/// One `cronjobs` entry as openab's `validate_cronjobs` checks it (v0.8.2 `src/cron.rs`, with the
/// crates it uses: `cron` 0.16 reading the expression with a seconds field prepended, `chrono-tz`
/// 0.10 the time zone), plus what openab leaves to chance: exactly five fields (a sixth would be
/// read as openab's seconds-prepended form's year), and IDs of the platform's shape.
fn cron_job(
    values: &Values,
    at: &YamlPath,
    agent: &AgentValues,
    job: &crate::spec::CronJob,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    let fields: Vec<&str> = job.schedule.split_whitespace().collect();
    if fields.len() == 5 && fields[4].contains(|c: char| c.is_ascii_digit()) {
        warnings.push(format!(
            "{}: {}: openab reads the day of the week with the `cron` crate, where 1 is Sunday and 7 Saturday (in \
             POSIX cron 1 is Monday): {:?} may not run on the days you mean; write names (MON-FRI) to be sure",
            values.origin(&at.key("schedule")),
            at.key("schedule"),
            fields[4]
        ));
    }
    if fields.len() != 5 {
        problems.push(values.diagnostic(
            &at.key("schedule"),
            format!(
                "{:?} has {} fields; openab takes 5 (minute hour day-of-month month day-of-week), e.g. \
                 \"0 9 * * MON-FRI\"",
                job.schedule,
                fields.len()
            ),
        ));
    } else if cron::Schedule::from_str(&format!("0 {}", job.schedule)).is_err() {
        problems.push(values.diagnostic(
            &at.key("schedule"),
            format!("{:?} is not a cron expression openab reads: {}", job.schedule, cron_fault(&fields)),
        ));
    }
    if let Some(tz) = &job.timezone
        && chrono_tz::Tz::from_str(tz).is_err()
    {
        problems.push(values.diagnostic(
            &at.key("timezone"),
            format!("{tz:?} is not an IANA time zone openab knows (e.g. UTC, Europe/Berlin, Asia/Taipei)"),
        ));
    }
    // openab posts a job through Discord's or Slack's adapter only (`VALID_PLATFORMS`), and refuses a
    // job whose platform the agent does not serve.
    let platform = job.platform.as_deref().unwrap_or("discord");
    let served = match platform {
        "slack" => agent.slack.enabled,
        _ => agent.discord.enabled,
    };
    if !served {
        problems.push(values.diagnostic(
            &at.key("platform"),
            format!("{platform} is not configured for this agent: openab posts a job only where the agent serves"),
        ));
    }
    let (id_ok, shape): (fn(&str) -> bool, &str) = match platform {
        "slack" => (rules::is_slack_channel, "a Slack channel ID (C..., G... or D...)"),
        _ => (rules::is_snowflake, "a Discord ID: 17 to 20 digits, as a quoted string"),
    };
    if !id_ok(&job.channel) {
        problems.push(values.diagnostic(&at.key("channel"), format!("{:?} is not {shape}", job.channel)));
    }
    // A Slack thread is the timestamp of its first message (`1700000000.000100`).
    let thread_ok = |id: &str| match platform {
        "slack" => id.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        }),
        _ => rules::is_snowflake(id),
    };
    if let Some(id) = job.thread_id.as_deref().filter(|id| !id.is_empty() && !thread_ok(id)) {
        problems.push(values.diagnostic(&at.key("threadId"), format!("{id:?} is not a thread of {platform}")));
    }
}
