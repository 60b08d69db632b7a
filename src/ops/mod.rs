//! The facade over the engine: `perform` (the one entry point), status (read-only),
//! `init --adopt-existing`, and the commands whose work lives with its concern, here under the
//! names the front ends use: validate (`inspect`, read-only), move and adopt (`ingest`,
//! journaled like an ingest).

pub mod adopt_existing;
pub mod perform;
pub mod status;

use crate::event::Summary;

pub use crate::ingest::moves::{adopt, move_to_unmanaged, MoveReport};
pub use crate::inspect::validate;

/// Shared by the front ends: does this summary mean "some input went to unmanaged"?
pub fn went_unmanaged(s: &Summary) -> bool {
    s.unmanaged > 0 || s.files_unmanaged_whole > 0
}
