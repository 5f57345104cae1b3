//! What the domain needs from the outside world, one small trait per capability, each in its
//! own file with its in-memory fake beside it (`<port>/memory.rs`).
//!
//! Adapters ([`crate::aws`]) keep their backend's error as the `source` of [`BackendError`],
//! so a log line shows the whole cause chain while the domain never sees an SDK type. The
//! fakes are for fast unit tests and benches (feature `fakes`); every adapter has its own
//! tests against the local stack, which the fakes never replace.

mod affinity_store;
mod clock;
mod export_sink;
mod ledger;
mod mailer;
mod parking;
mod profile_store;
mod publisher;
mod run_store;
mod scheduler;
mod segment_store;
mod shop_eraser;
mod shops_source;
mod tombstones;

pub use affinity_store::AffinityStore;
pub use clock::{Clock, SystemClock};
pub use export_sink::{ExportError, ExportLocation, ExportSink};
pub use ledger::{Claim, DeliveryLedger, LedgerError};
pub use mailer::{Mailer, MailerError};
pub use parking::{ParkingError, ParkingLot};
pub use profile_store::{ProfileStore, StoreError};
pub use publisher::{EventPublisher, PublishError};
pub use run_store::RunStore;
pub use scheduler::{ScheduleError, Scheduler};
pub use segment_store::{ProfilePage, SegmentStore, Shard};
pub use shop_eraser::{ErasedPage, ErasureCursor, ScanPosition, ShopEraser};
pub use shops_source::{ShopsSource, ShopsSourceError};
pub use tombstones::{TombstoneKey, Tombstones};

#[cfg(any(test, feature = "fakes"))]
pub use {
    affinity_store::MemoryAffinityStore, clock::ManualClock, export_sink::MemoryExportSink, ledger::MemoryLedger,
    mailer::RecordingMailer, parking::MemoryParkingLot, profile_store::CountingProfileStore,
    profile_store::MemoryProfileStore, publisher::RecordingPublisher, run_store::MemoryRunStore,
    scheduler::MemoryScheduler, shops_source::MemoryShopsSource, tombstones::MemoryTombstones,
};

/// An adapter's underlying failure, kept whole.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the fakes share.
#[cfg(any(test, feature = "fakes"))]
mod fake {
    use std::sync::{Mutex, MutexGuard};

    /// A poisoned lock only means another test thread panicked; the data is still usable.
    pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
