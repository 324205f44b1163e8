//! The rows of an `import` file: CSV with a header row, or JSON lines (one object a line),
//! told apart by the extension (`.csv`; `.jsonl`, `.ndjson`, `.json`) or else by the first
//! character (`{` is JSON lines). Each row gives an email and maybe a name, by column.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A row's line number (1-based, the header is line 1 of a CSV) and its fields or why not.
pub type Row = (u64, Result<(String, Option<String>), String>);

/// Which columns to read.
pub struct Columns {
    pub email: String,
    /// `None`: `displayName`, else `name`, else none (the email's local part is the name).
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

/// The file's format, by extension, else by its first non-blank character.
pub fn format_of(path: &Path, head: &[u8]) -> Format {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Format::Csv,
        Some("jsonl" | "ndjson" | "json") => Format::JsonLines,
        _ => match head.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Format::JsonLines,
            _ => Format::Csv,
        },
    }
}

/// Every row of `input`, in order; `Err` only when the file cannot be read as that format at
/// all (a CSV without the email column).
pub fn rows(
    input: impl Read + 'static,
    format: Format,
    columns: &Columns,
) -> Result<Box<dyn Iterator<Item = Row>>, String> {
    match format {
        Format::Csv => csv_rows(input, columns),
        Format::JsonLines => Ok(json_rows(input, columns)),
    }
}

fn csv_rows(
    input: impl Read + 'static,
    columns: &Columns,
) -> Result<Box<dyn Iterator<Item = Row>>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| format!("cannot read the header row: {e}"))?
        .clone();
    let find = |name: &str| header.iter().position(|h| h.trim() == name);
    let email = find(&columns.email).ok_or_else(|| {
        format!(
            "the header row has no column {:?} (--email-column)",
            columns.email
        )
    })?;
    let name =
        match &columns.name {
            Some(column) => Some(find(column).ok_or_else(|| {
                format!("the header row has no column {column:?} (--name-column)")
            })?),
            None => find("displayName").or_else(|| find("name")),
        };
    Ok(Box::new(reader.into_records().map(move |record| {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return (line, Err(format!("not a CSV row: {e}")));
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let Some(address) = record.get(email) else {
            return (line, Err("no email column in this row".into()));
        };
        let name = name
            .and_then(|i| record.get(i))
            .filter(|n| !n.trim().is_empty());
        (line, Ok((address.to_string(), name.map(str::to_string))))
    })))
}

fn json_rows(input: impl Read + 'static, columns: &Columns) -> Box<dyn Iterator<Item = Row>> {
    let email = columns.email.clone();
    let name = columns.name.clone();
    let lines = BufReader::new(input).lines().enumerate();
    Box::new(lines.filter_map(move |(i, line)| {
        let n = i as u64 + 1;
        let line = match line {
            Ok(line) if line.trim().is_empty() => return None,
            Ok(line) => line,
            Err(e) => return Some((n, Err(format!("cannot read the line: {e}")))),
        };
        let object = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => return Some((n, Err("not a JSON object".into()))),
            Err(e) => return Some((n, Err(format!("not JSON: {e}")))),
        };
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let Some(address) = text(&email) else {
            return Some((n, Err(format!("no string field {email:?}"))));
        };
        let name = match &name {
            Some(key) => text(key),
            None => text("displayName").or_else(|| text("name")),
        };
        Some((n, Ok((address, name))))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &'static str, format: Format, name: Option<&str>) -> Vec<Row> {
        let columns = Columns {
            email: "email".into(),
            name: name.map(String::from),
        };
        rows(text.as_bytes(), format, &columns).unwrap().collect()
    }

    #[test]
    fn formats_by_extension_then_content() {
        let cases = [
            ("a.csv", "{", Format::Csv),
            ("a.JSONL", "email", Format::JsonLines),
            ("a.txt", "  {\"email\":1}", Format::JsonLines),
            ("a", "email,name", Format::Csv),
        ];
        for (path, head, want) in cases {
            assert_eq!(format_of(Path::new(path), head.as_bytes()), want, "{path}");
        }
    }

    #[test]
    fn csv_rows_carry_their_line_numbers() {
        let rows = read(
            "email,displayName\nann@x.io,Ann\n\"multi\nline@x.io\",M\nbob@x.io,\n",
            Format::Csv,
            None,
        );
        assert_eq!(rows[0], (2, Ok(("ann@x.io".into(), Some("Ann".into())))));
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[2], (5, Ok(("bob@x.io".into(), None))));
    }

    #[test]
    fn a_csv_without_the_column_is_refused_whole() {
        let columns = Columns {
            email: "mail".into(),
            name: None,
        };
        let err = rows("email\na@b.c\n".as_bytes(), Format::Csv, &columns).err();
        assert!(err.unwrap().contains("--email-column"));
    }

    #[test]
    fn json_lines_skip_blank_lines_and_report_bad_ones() {
        let rows = read(
            "{\"email\":\"a@b.io\",\"nick\":\"A\"}\n\n[1]\n{\"mail\":\"x\"}\nnope\n",
            Format::JsonLines,
            Some("nick"),
        );
        assert_eq!(rows[0], (1, Ok(("a@b.io".into(), Some("A".into())))));
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.is_err() && rows[2].1.is_err() && rows[3].1.is_err());
        assert_eq!((rows[2].0, rows[3].0), (4, 5));
    }
}
