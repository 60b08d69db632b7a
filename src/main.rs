//! The headless front end: parses the command line, calls the engine, renders its events.

mod cli;

// An ingest is mostly small, short-lived allocations (parser events, scalars, keys) on every
// core: mimalloc does them with a tenth less CPU than glibc's malloc, and, with the options set
// in `main`, less memory too (figures in docs/benchmarks.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's option numbers (`mi_option_e` in its mimalloc.h, which keeps retired options
/// in place so that the numbers stay put).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Commit arena memory only as it is used, and hand freed pages back at once: with
    // mimalloc's defaults the peak memory of an ingest doubled.
    // SAFETY: plain setters of mimalloc's global options, called before any thread starts.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    std::process::exit(cli::main() as i32);
}
