//! What an ingest's plan reports, held until the batch is in force: a batch refused after its
//! plan (an unsafe target, a source changed meanwhile) must not have said first that it managed
//! anything. At 100,000 documents those events are about 30 MiB in memory, so they wait as JSON
//! lines in an unnamed file in the fabric's `.hnp/local/` (Linux's `O_TMPFILE`: a crash leaves
//! nothing behind, and nothing is written outside the fabric), and are read back in order.
//! Where no such file can be made (elsewhere, a dry run), or one stops taking writes, they are
//! held in memory instead.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::os::fd::AsFd;

use crate::event::{Event, Sink};

pub(super) struct Held {
    /// The events written so far, one JSON line each.
    file: Option<BufWriter<File>>,
    /// A write to the file failed: its last line may be cut short, and it takes no more.
    full: bool,
    /// The events after the file stopped taking them (or all, without a file).
    memory: Vec<Event>,
}

impl Held {
    /// Events held in an unnamed file in the folder `dir` when one can be made there, else
    /// in memory.
    pub(super) fn in_dir(dir: Option<impl AsFd>) -> Held {
        Held {
            file: dir
                .and_then(crate::store::sys::unnamed_file_in)
                .map(BufWriter::new),
            full: false,
            memory: Vec::new(),
        }
    }

    /// Emit every held event into `sink`, in the order they came.
    pub(super) fn replay(self, sink: &mut dyn Sink) {
        if let Some(file) = self.file {
            if let Err(e) = replay_file(file, self.full, sink) {
                sink.emit(Event::Error {
                    file: None,
                    message: format!(
                        "some of the plan's lines could not be shown (the batch itself is recorded in full): reading them back: {e}"
                    ),
                });
            }
        }
        for event in self.memory {
            sink.emit(event);
        }
    }
}

/// The file's events, in order. After a failed write (`full`) the last line may be cut short:
/// it is left out (that event was held in memory instead).
fn replay_file(file: BufWriter<File>, full: bool, sink: &mut dyn Sink) -> std::io::Result<()> {
    let mut file = match file.into_inner() {
        Ok(file) => file,
        Err(e) if full => e.into_parts().1.into_parts().0,
        Err(e) => return Err(e.into_error()),
    };
    file.rewind()?;
    let mut lines = BufReader::new(file).lines().peekable();
    while let Some(line) = lines.next() {
        let line = line?;
        if full && lines.peek().is_none() {
            // Perhaps cut short by the failed write: shown only if it reads back whole.
            match serde_json::from_str::<Event>(&line) {
                Ok(event) => sink.emit(event),
                Err(_) => break,
            }
            continue;
        }
        sink.emit_line(line).map_err(std::io::Error::other)?;
    }
    Ok(())
}

impl Sink for Held {
    fn emit(&mut self, event: Event) {
        if let (Some(file), false) = (&mut self.file, self.full) {
            let written = serde_json::to_writer(&mut *file, &event)
                .map_err(std::io::Error::other)
                .and_then(|()| file.write_all(b"\n"));
            if written.is_ok() {
                return;
            }
            // What the file holds is read back first, then the rest from memory.
            self.full = true;
        }
        self.memory.push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Collect;
    use std::path::Path;

    /// Every event a real ingest emits (real corpus files, a document with a spec error, one
    /// that is not a Hedgehog object), in order.
    fn events_of_a_real_ingest() -> Vec<Event> {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path().join("fab");
        crate::fabric::init(&root, None).expect("init");
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let mut names: Vec<_> = std::fs::read_dir(&corpus)
            .expect("the shared corpus")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        names.sort();
        for p in names.iter().take(4) {
            let name = p.file_name().expect("a file name");
            std::fs::copy(p, root.join("raw").join(name)).expect("copy");
        }
        std::fs::write(
            root.join("raw/odd.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: bad\nspec:\n  subnets:\n    default:\n      subnet: 10.9.1.0/24\n      vlan: \"x\"\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: good\nspec:\n  subnets:\n    default:\n      subnet: 10.9.2.0/24\n      vlan: 1902\n",
        )
        .expect("write");
        let mut c = Collect::default();
        crate::ingest::run(
            &root,
            &super::super::Options::default(),
            &crate::git::Baseline::open_head,
            &mut c,
        )
        .expect("ingest");
        // The batch's summary is never held: it comes after the batch is in force.
        c.0.into_iter()
            .filter(|e| !matches!(e, Event::BatchFinished { .. }))
            .collect()
    }

    fn through(mut held: Held, events: &[Event]) -> Vec<Event> {
        for e in events {
            held.emit(e.clone());
        }
        let mut back = Collect::default();
        held.replay(&mut back);
        back.0
    }

    #[test]
    fn held_events_come_back_as_they_went_in_from_a_file_or_from_memory() {
        let events = events_of_a_real_ingest();
        assert!(events
            .iter()
            .any(|e| matches!(e, Event::DocumentClassified { .. })));
        assert!(events.iter().any(|e| matches!(e, Event::Problem { .. })));
        assert!(events.iter().any(|e| matches!(
            e,
            Event::DocumentClassified {
                fate: crate::event::Fate::Managed { .. },
                ..
            }
        )));
        let dir = tempfile::tempdir().expect("tempdir");
        let d = File::open(dir.path()).expect("open the folder");
        let held = Held::in_dir(Some(&d));
        if cfg!(target_os = "linux") && !crate::store::sys::portable_only() {
            assert!(held.file.is_some(), "an O_TMPFILE file");
        }
        assert_eq!(through(held, &events), events);
        // Nothing was left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
        assert_eq!(through(Held::in_dir(None::<&File>), &events), events);
    }
}
