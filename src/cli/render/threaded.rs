//! The renderer on a thread of its own, for the commands that print a line per document.
//!
//! `fgd validate` of 10^4 documents prints about 2.4 * 10^4 lines, and nearly all of them come
//! after the files are read: the cross-object checks must see every object before any fate is
//! known. Formatting and writing those lines on the engine's thread made them a serial tail
//! after the parallel reading; on a thread of their own they run beside the engine's serial end
//! (cross-object rounds, the plan), on the core the readers just left.

use std::sync::mpsc;

use fgd::event::{Event, Sink};

use super::Renderer;

/// How many events may wait for the output thread: enough to keep it busy, few enough that a
/// slow terminal holds back the engine instead of piling up a fabric's worth of events.
const QUEUE: usize = 1024;

/// The events the engine emits, handed to the output thread in order.
struct Queue(mpsc::SyncSender<Event>);

impl Sink for Queue {
    fn emit(&mut self, event: Event) {
        // The receiver only goes away if the output thread panicked; its lines are lost
        // either way, and the engine's work (and exit code) must not depend on them.
        let _ = self.0.send(event);
    }
}

/// Run `work` with a sink whose events `renderer` prints on another thread, in the order they
/// were emitted; every event is printed before this returns.
pub fn run<T>(renderer: &mut Renderer, work: impl FnOnce(&mut dyn Sink) -> T) -> T {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Event>(QUEUE);
        let printer = scope.spawn(move || {
            for event in rx {
                renderer.emit(event);
            }
        });
        let mut queue = Queue(tx);
        let out = work(&mut queue);
        drop(queue);
        // A panic while printing has been reported on stderr by the panic hook; the engine's
        // result still stands.
        let _ = printer.join();
        out
    })
}
