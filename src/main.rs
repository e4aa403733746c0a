//! The `hourglass` binary: flags → configuration → logging → [`hourglass::serve`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use hourglass::config::{Config, Overrides};

/// The daemon allocates and frees many small JSON values per request on every worker thread;
/// mimalloc's per-thread heaps serve that far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turn transparent huge pages off for this process. mimalloc asks for them on its heap, and
/// with them the kernel filled partly used 2 MiB stretches of the heap into whole huge pages:
/// under a steady load the RSS was about twice as high and rose in steps, with no gain in
/// speed (BENCHMARKS.md). The kernel then keeps every mapping of the process, asked for or
/// not, in small pages.
#[cfg(target_os = "linux")]
fn without_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        eprintln!(
            "hourglass: transparent huge pages stay on: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// How often a runtime worker hands back the memory it freed.
const COLLECT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Run when a runtime worker runs out of work: at most once every [`COLLECT_EVERY`], let
/// mimalloc return the pages this thread freed and the empty pages of its arenas. Otherwise it
/// returns them only when the thread allocates again in that size, and a burst of work (the
/// buffers of many connections opened while the disk stalled) leaves its pages held after.
fn collect_now_and_then() {
    use std::cell::Cell;
    use std::time::Instant;
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    LAST.with(|last| {
        let now = Instant::now();
        if last
            .get()
            .is_some_and(|t| now.duration_since(t) < COLLECT_EVERY)
        {
            return;
        }
        last.set(Some(now));
        // SAFETY: mi_collect walks the calling thread's own heap and the shared arenas, under
        // mimalloc's own locks; it takes and returns nothing of ours.
        unsafe { libmimalloc_sys::mi_collect(true) };
    });
}

/// Bytes SQLite holds now, for `/metrics`.
fn sqlite_memory() -> i64 {
    // SAFETY: a read of SQLite's counters, safe from any thread at any time.
    unsafe { rusqlite::ffi::sqlite3_memory_used() }
}

#[derive(Parser)]
#[command(
    name = "hourglass",
    version,
    about = "A durable delayed-task scheduler that speaks the AWS Step Functions API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Serve {
        /// Address to listen on [default: 127.0.0.1]
        #[arg(long)]
        bind: Option<std::net::IpAddr>,
        /// Port to listen on; 0 picks a free one [default: 8083]
        #[arg(long)]
        port: Option<u16>,
        /// Where the SQLite database lives [default: ./data]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A postgres:// URL: run on PostgreSQL, possibly with other nodes [default: SQLite]
        #[arg(long)]
        database_url: Option<String>,
        /// Configuration file [default: config/hourglass.toml when it exists]
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Copy the SQLite database under the data directory into an empty PostgreSQL database,
    /// with every pending timer and unfinished call (stop the daemon first).
    Migrate {
        /// The target: a postgres:// URL
        #[arg(long)]
        to: String,
        /// Where the SQLite database lives [default: ./data]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Configuration file [default: config/hourglass.toml when it exists]
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the effective configuration (all layers applied, secrets hidden) as JSON and exit.
    Config {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    without_transparent_huge_pages();
    hourglass::metrics::sqlite_memory_from(sqlite_memory);
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            bind,
            port,
            data_dir,
            database_url,
            config,
        } => {
            let overrides = Overrides {
                bind,
                port,
                data_dir,
                database_url,
            };
            let config = match Config::load(config.as_deref(), &overrides) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("hourglass: {e}");
                    return ExitCode::from(2);
                }
            };
            hourglass::telemetry::init(&config.log.level, config.log.format);
            match run(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hourglass: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Migrate {
            to,
            data_dir,
            config,
        } => {
            let overrides = Overrides {
                data_dir,
                ..Overrides::default()
            };
            let config = match Config::load(config.as_deref(), &overrides) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("hourglass: {e}");
                    return ExitCode::from(2);
                }
            };
            hourglass::telemetry::init(&config.log.level, config.log.format);
            match migrate(&config, &to) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hourglass: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Config { config } => {
            match Config::load(config.as_deref(), &Overrides::default()) {
                Ok(c) => match serde_json::to_string_pretty(&c.redacted()) {
                    Ok(text) => {
                        println!("{text}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("hourglass: {e}");
                        ExitCode::FAILURE
                    }
                },
                Err(e) => {
                    eprintln!("hourglass: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn run(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(collect_now_and_then)
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((config.bind, config.port))
            .await
            .with_context(|| format!("binding {}:{}", config.bind, config.port))?;
        let shutdown = CancellationToken::new();
        tokio::spawn(watch_signals(shutdown.clone()));
        #[cfg(unix)]
        tokio::spawn(survive_file_size_limit());
        hourglass::serve(config, listener, shutdown).await
    })
}

fn migrate(config: &Config, to: &str) -> anyhow::Result<()> {
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        anyhow::bail!("--to must be a postgres:// URL, not '{to}'");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let started = std::time::Instant::now();
    let copied = runtime
        .block_on(hourglass::store::copy::sqlite_to_postgres(config, to))
        .with_context(|| format!("migrating {}", config.database_path().display()))?;
    println!(
        "copied {} state machines ({} revisions), {} executions ({} history events), \
         {} pending timers, {} unfinished calls, {} tags and {} map runs ({} items) into {} \
         partitions in {:.1} s",
        copied.state_machines,
        copied.revisions,
        copied.executions,
        copied.history_events,
        copied.timers,
        copied.tasks,
        copied.tags,
        copied.map_runs,
        copied.map_run_items,
        copied.partitions,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A write past the file size limit (RLIMIT_FSIZE) raises SIGXFSZ, whose default action kills
/// the process. Catching it turns the write into an error (EFBIG), which the store answers as
/// it answers a full disk: the write is refused and the daemon goes on.
#[cfg(unix)]
async fn survive_file_size_limit() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::from_raw(libc::SIGXFSZ)) {
        Ok(mut xfsz) => {
            while xfsz.recv().await.is_some() {
                tracing::debug!("a write went past the file size limit (SIGXFSZ)");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot catch SIGXFSZ"),
    }
}

/// Cancel `shutdown` on SIGTERM or ctrl-c.
async fn watch_signals(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.cancel();
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    shutdown.cancel();
}
