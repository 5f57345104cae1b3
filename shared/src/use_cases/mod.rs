//! The use cases: what each function does, the only domain code that calls ports.
//!
//! Each takes the ports it needs (`&dyn` traits, or a struct of them) and the time, decides
//! with the pure modules below it (profile folding, the program engine, the gate, RFM and
//! value scoring) and does the I/O those decisions call for. A handler decodes its input,
//! calls one of these and maps the error; nothing here knows Lambda or an SDK.

pub mod announce_edition;
pub mod gdpr;
pub mod lookup;
pub mod run_programs;
pub mod schedules;
pub mod score_nightly;
pub mod send_campaign;
pub mod send_mail;
pub mod update_profile;
