//! Aligned columns for the human-readable output: the widths come from the widest cell of
//! each column (in characters), numbers are right-aligned, and the last column is not padded,
//! so no line ends in spaces.

/// A cell for a value that may be unknown or absent: the value, or `-`.
pub(crate) fn or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table: a header row, then rows of cells.
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles and alignments.
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Self {
        Table { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are empty and extra ones are dropped.
    pub(crate) fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as text, each line ending in a newline, with two spaces between columns.
    pub(crate) fn render(&self) -> String {
        self.lines().into_iter().map(|line| line + "\n").collect()
    }

    /// The header line, then one line per row, without newlines.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut widths: Vec<usize> = self.columns.iter().map(|(title, _)| title.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header: Vec<String> = self.columns.iter().map(|(title, _)| (*title).to_owned()).collect();
        let mut out = Vec::with_capacity(self.rows.len() + 1);
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, ((cell, width), (_, align))) in row.iter().zip(&widths).zip(&self.columns).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = width - cell.chars().count();
                let last = i + 1 == self.columns.len();
                match align {
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                    Align::Left => {
                        line.push_str(cell);
                        if !last {
                            line.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                }
            }
            out.push(line.trim_end().to_owned());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut table =
            Table::new(&[("NAME", Align::Left), ("MTU", Align::Right), ("ADDRESSES", Align::Left)]);
        table.row(vec!["lo".into(), "65536".into(), "127.0.0.1/8".into()]);
        table.row(vec!["ns0".into(), "1500".into(), String::new()]);
        assert_eq!(
            table.render(),
            "NAME    MTU  ADDRESSES\n\
             lo    65536  127.0.0.1/8\n\
             ns0    1500\n"
        );
    }

    #[test]
    fn absent_values_are_dashes() {
        assert_eq!(or_dash(Some(1500)), "1500");
        assert_eq!(or_dash(None::<u32>), "-");
    }

    #[test]
    fn widths_count_characters_not_bytes_and_short_rows_are_padded() {
        let mut table = Table::new(&[("A", Align::Left), ("B", Align::Left)]);
        table.row(vec!["é".into()]);
        table.row(vec!["xy".into(), "z".into()]);
        assert_eq!(table.render(), "A   B\né\nxy  z\n");
    }
}
