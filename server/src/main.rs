use clap::Parser;
use server::cli::Cli;
use server::configuration::Config;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = match cli.settings.log_format.parse() {
        Ok(format) => format,
        Err(err) => {
            eprintln!("alertwire: {err}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(log_format);
    let config = match Config::from_settings(&cli.settings) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("alertwire: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("alertwire: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::commands::run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("alertwire: {err}");
            ExitCode::FAILURE
        }
    }
}
