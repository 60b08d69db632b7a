//! The headless front end: parses the command line, calls the engine, renders its events.

mod cli;

fn main() {
    std::process::exit(cli::main() as i32);
}
