//! The renderer on a thread of its own, for the commands that print a line per document.
//!
//! `fgd validate` of 10^4 documents prints about 2.4 * 10^4 lines, and nearly all of them come
//! after the files are read: the cross-object checks must see every object before any fate is
//! known. Formatting and writing those lines on the engine's thread made them a serial tail
//! after the parallel reading; on a thread of their own they run beside the engine's serial end
//! (cross-object rounds, the plan), on the core the readers just left.
//!
//! Events are handed over in batches: waking the output thread for every one of 10^4 events
//! cost more CPU than the formatting it moved. A batch goes when it is full, and otherwise the
//! output thread looks every few milliseconds, so a lone line waits no longer than that.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use fgd::event::{Event, Sink};

use super::Renderer;

/// Events that wake the output thread at once.
const BATCH: usize = 256;
/// How many events may wait: a slow terminal holds back the engine instead of piling up a
/// fabric's worth of events.
const MOST: usize = 1024;
/// How long a lone event may wait for the output thread.
const LOOK_EVERY: Duration = Duration::from_millis(15);

/// An event, or one held back as its JSON line: read (when it must be) on the output thread,
/// beside what the engine does after handing it over.
enum Item {
    Event(Event),
    Line(String),
}

#[derive(Default)]
struct Waiting {
    events: Vec<Item>,
    /// The engine is done: print what is left and stop.
    done: bool,
    /// The output thread stopped (it panicked): nobody takes events any more.
    gone: bool,
}

#[derive(Default)]
struct Handover {
    waiting: Mutex<Waiting>,
    /// For the output thread: a batch is ready, or the engine is done.
    ready: Condvar,
    /// For the engine: there is room again.
    room: Condvar,
}

impl Handover {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // A panic on the other side leaves plain data behind: events, a flag.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self) {
        self.lock().done = true;
        self.ready.notify_one();
    }
}

/// The events the engine emits, handed to the output thread in order.
struct Queue<'a>(&'a Handover);

impl Queue<'_> {
    fn push(&mut self, item: Item) {
        let mut waiting = self.0.lock();
        if waiting.gone {
            return;
        }
        while waiting.events.len() >= MOST && !waiting.gone {
            waiting = self
                .0
                .room
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
        waiting.events.push(item);
        if waiting.events.len() == BATCH {
            self.0.ready.notify_one();
        }
    }
}

impl Sink for Queue<'_> {
    fn emit(&mut self, event: Event) {
        self.push(Item::Event(event));
    }

    fn emit_line(&mut self, line: String) -> Result<(), serde_json::Error> {
        self.push(Item::Line(line));
        Ok(())
    }
}

/// Marks the engine done when `run`'s work ends, by returning or by unwinding, so the output
/// thread never waits for more.
struct Done<'a>(&'a Handover);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Run `work` with a sink whose events `renderer` prints on another thread, in the order they
/// were emitted; every event is printed before this returns.
pub fn run<T>(renderer: &mut Renderer, work: impl FnOnce(&mut dyn Sink) -> T) -> T {
    let handover = Handover::default();
    std::thread::scope(|scope| {
        let printer = scope.spawn(|| print(&handover, renderer));
        let out = {
            let _done = Done(&handover);
            work(&mut Queue(&handover))
        };
        // A panic while printing has been reported on stderr by the panic hook; the engine's
        // result still stands.
        let _ = printer.join();
        out
    })
}

/// Marks the output thread gone when it stops, so a full queue never holds the engine.
struct Gone<'a>(&'a Handover);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.lock().gone = true;
        self.0.room.notify_one();
    }
}

fn print(handover: &Handover, renderer: &mut Renderer) {
    let _gone = Gone(handover);
    loop {
        let (batch, done) = {
            let mut waiting = handover.lock();
            while waiting.events.is_empty() && !waiting.done {
                waiting = handover
                    .ready
                    .wait_timeout(waiting, LOOK_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            (std::mem::take(&mut waiting.events), waiting.done)
        };
        handover.room.notify_one();
        for item in batch {
            match item {
                Item::Event(event) => renderer.emit(event),
                Item::Line(line) => {
                    if let Err(e) = renderer.emit_line(line) {
                        renderer.emit(Event::Error {
                            file: None,
                            message: format!("a line held back could not be shown: {e}"),
                        });
                    }
                }
            }
        }
        if done && handover.lock().events.is_empty() {
            return;
        }
    }
}
