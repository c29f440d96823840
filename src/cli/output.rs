//! Where a command's results go: aligned text for people, or JSON for scripts (`--json`).
//! One-shot commands print one pretty JSON document; streaming ones (`watch`, `stats
//! --interval`) print one compact JSON object per line, so a reader can act on each as it
//! arrives.

use std::io::Write;

use serde_json::Value;

use super::CliError;

/// The output mode the global options chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Output {
    /// `--json`: machine-readable output instead of text.
    pub(crate) json: bool,
}

impl Output {
    /// Prints `value` as one pretty JSON document.
    pub(crate) fn document(&self, value: &Value) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value).map_err(|e| CliError::failed(format!("JSON: {e}")))?;
        write_stdout(format!("{text}\n").as_bytes())
    }

    /// Prints `value` as one line of JSON.
    pub(crate) fn line(&self, value: &Value) -> Result<(), CliError> {
        write_stdout(format!("{value}\n").as_bytes())
    }

    /// Prints text as it is.
    pub(crate) fn text(&self, text: &str) -> Result<(), CliError> {
        write_stdout(text.as_bytes())
    }
}

/// Writes to stdout and flushes; a closed pipe (`netstack watch | head -1`) is an ordinary
/// end, reported as [`CliError::StdoutClosed`].
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush()).map_err(|error| match error.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::StdoutClosed,
        _ => CliError::failed(format!("writing to stdout: {error}")),
    })
}

/// The current time as RFC 3339 in UTC with microseconds: `2024-05-01T12:00:01.123456Z`.
pub(crate) fn timestamp_now() -> String {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format_timestamp(since_epoch)
}

/// `since_epoch` as RFC 3339 in UTC with microseconds.
pub(crate) fn format_timestamp(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_micros()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`
/// algorithm, for days after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(format_timestamp(Duration::ZERO), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_timestamp(Duration::from_micros(951_782_400_000_001)),
            "2000-02-29T00:00:00.000001Z"
        );
        assert_eq!(format_timestamp(Duration::from_secs(1_709_251_199)), "2024-02-29T23:59:59.000000Z");
        assert_eq!(format_timestamp(Duration::from_secs(4_102_444_800)), "2100-01-01T00:00:00.000000Z");
    }
}
