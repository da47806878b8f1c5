//! The history's progress, for a person at the terminal.

/// The end of `day` (its last millisecond): the pinned clock while history loads.
pub(crate) fn end_of(day: i32) -> tierline_events::Timestamp {
    tierline_events::Timestamp((i64::from(day) + 1) * 86_400_000 - 1)
}

/// The history's progress bar (hidden when stderr is not a terminal; the summary lines
/// still print).
pub(crate) fn progress(days: i32, done: i32) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(days.max(0) as u64);
    pb.set_position(done.max(0) as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "history {bar:30} {pos}/{len} days  {msg}  (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb
}
