//! The terminal the dashboard draws on: entered and always restored (normal exit, error,
//! panic, signal), suspended for an external editor and entered again, and checked for a
//! hang-up.

use crossterm::{cursor, event as ct, execute, terminal};

/// Restores the terminal however the dashboard ends: normal exit, error, panic or signal.
pub struct TerminalGuard;

pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        ct::DisableMouseCapture,
        terminal::EndSynchronizedUpdate,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

fn enter() -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        ct::EnableMouseCapture,
        cursor::Hide
    )
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<TerminalGuard> {
        enter()?;
        let guard = TerminalGuard;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        Ok(guard)
    }

    /// Hand the terminal to another program (an editor) as the shell left it, run `f`, then
    /// take it back.
    pub fn suspended(&self, f: &mut dyn FnMut()) -> std::io::Result<()> {
        restore();
        f();
        enter()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// False once the terminal is gone (hung-up pty, closed SSH session): reads then return at
/// once forever, and a loop that trusted them would spin.
pub fn alive() -> bool {
    rustix::termios::tcgetattr(std::io::stdin()).is_ok()
}
