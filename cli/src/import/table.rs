//! A CSV file as the importers read it: rows with their line in the file, cells by header
//! name (trimmed; an empty cell is no value), and the file's kind told from its header.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where a row came from, for the report of rows skipped (`orders.csv:17`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub file: PathBuf,
    pub line: u64,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A row skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub place: Place,
    pub reason: String,
}

/// The formats an import reads (docs/cli.md, "Importing history").
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Shopify's orders export (Orders → Export): one row per line item.
    ShopifyOrders,
    /// Shopify's customers export (Customers → Export).
    ShopifyCustomers,
    /// Relance's generic orders header, for any other platform.
    Orders,
    /// Relance's generic customers header.
    Customers,
}

impl Format {
    /// The format a header names: each has a column the others lack.
    pub fn detect(headers: &[String]) -> Option<Format> {
        let has = |name: &str| headers.iter().any(|h| h == name);
        if has("Lineitem quantity") {
            Some(Format::ShopifyOrders)
        } else if has("Accepts Email Marketing") || (has("First Name") && has("Email")) {
            Some(Format::ShopifyCustomers)
        } else if has("order_id") {
            Some(Format::Orders)
        } else if has("email") || has("customer_id") {
            Some(Format::Customers)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{}: the header names no format Relance reads (docs/cli.md lists them); name one with --format", .0.display())]
    UnknownFormat(PathBuf),
}

/// One data row.
pub struct Row<'t> {
    pub place: Place,
    columns: &'t HashMap<String, usize>,
    record: csv::StringRecord,
}

impl Row<'_> {
    /// The cell of `column`, trimmed; `None` when the column is absent or the cell empty.
    /// Shopify prefixes cells a spreadsheet would read as numbers with `'` (`'75008`).
    pub fn get(&self, column: &str) -> Option<&str> {
        let cell = self.record.get(*self.columns.get(column)?)?.trim();
        let cell = cell.strip_prefix('\'').unwrap_or(cell);
        (!cell.is_empty()).then_some(cell)
    }
}

/// A whole file, read before anything is sent: a file that cannot be read as CSV fails
/// the import before its first event.
pub struct Table {
    pub path: PathBuf,
    pub format: Format,
    columns: HashMap<String, usize>,
    records: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    pub fn read(path: &Path, format: Option<Format>) -> Result<Table, TableError> {
        let read = |source| TableError::Read { path: path.to_owned(), source };
        let bytes = std::fs::read(path).map_err(|e| read(csv::Error::from(e)))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
        let headers: Vec<String> = reader
            .headers()
            .map_err(read)?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        let format =
            format.or_else(|| Format::detect(&headers)).ok_or_else(|| TableError::UnknownFormat(path.to_owned()))?;
        let columns = headers.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
        let mut records = Vec::new();
        let mut lines = LineCounter::default();
        for record in reader.records() {
            let record = record.map_err(read)?;
            let line = record.position().map_or(0, |p| lines.line_at(&bytes, p.byte()));
            records.push((line, record));
        }
        Ok(Table { path: path.to_owned(), format, columns, records })
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|(line, record)| Row {
            place: Place { file: self.path.clone(), line: *line },
            columns: &self.columns,
            record: record.clone(),
        })
    }
}

/// The line each record is on, for records met in file order: the newlines before a
/// record are counted from where the previous one was (counting from the start each time
/// made a 20 MB export take minutes: the import benchmark found it).
#[derive(Default)]
struct LineCounter {
    scanned: usize,
    newlines: u64,
}

impl LineCounter {
    /// The line a record starting at byte `at` is on. The reader's own line count is one
    /// short on CRLF files (a record starts at the `\n` of the previous line's `\r\n`), and
    /// spreadsheets write CRLF.
    fn line_at(&mut self, bytes: &[u8], at: u64) -> u64 {
        let at = (at as usize).min(bytes.len());
        if at < self.scanned {
            *self = Self::default();
        }
        self.newlines += bytes[self.scanned..at].iter().filter(|b| **b == b'\n').count() as u64;
        self.scanned = at;
        self.newlines + 1 + u64::from(bytes.get(at) == Some(&b'\n'))
    }
}
