//! Mapping a character position in a script to a line and column.

/// A place in a script file: 1-based line and column, and the text of that line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// The whole line, without its line ending.
    pub line_text: String,
}

impl Location {
    /// The location of the 1-based *character* position `position` in `text`, as PostgreSQL's
    /// error position counts it. A position past the end points at the end of the last line.
    pub fn of_char_position(text: &str, position: usize) -> Location {
        let target = position.saturating_sub(1);
        let byte = text
            .char_indices()
            .nth(target)
            .map_or(text.len(), |(i, _)| i);
        Location::of_byte_offset(text, byte)
    }

    /// The location of the byte offset `offset` in `text` (clamped to the text).
    pub fn of_byte_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = before.matches('\n').count() + 1;
        let column = text[line_start..offset].chars().count() + 1;
        let line_text = text[line_start..line_end].trim_end_matches('\r').to_owned();
        Location {
            line,
            column,
            line_text,
        }
    }
}
