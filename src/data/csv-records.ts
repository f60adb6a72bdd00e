/**
 * CSV text → records, chunk by chunk (RFC 4180: comma-separated, `"` quotes, `""` inside quotes,
 * quoted fields may span lines). Fields are trimmed, a leading BOM is dropped, blank lines are
 * skipped and rows may have any number of fields. A line without a quote, the common case of
 * label tables, is split with `String.split`; only quoted lines go through the character scanner.
 */

/** A CSV syntax error; `code` starts with `CSV_` as csv-parse's do. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Splits one record that contains quotes; null when a quoted field is still open at the end. */
function splitQuoted(text: string, record: number): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] === '"') {
      let value = '';
      let start = ++i;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return null;
        if (text[q + 1] === '"') {
          value += text.slice(start, q + 1);
          i = start = q + 2;
          continue;
        }
        value += text.slice(start, q);
        i = q + 1;
        break;
      }
      while (text[i] === ' ' || text[i] === '\t' || text[i] === '\r') i++;
      if (i < text.length && text[i] !== ',') {
        throw new CsvSyntaxError('CSV_INVALID_CLOSING_QUOTE', `record ${record}: characters after a closing quote`);
      }
      fields.push(value);
    } else {
      const end = text.indexOf(',', i);
      const field = text.slice(i, end < 0 ? text.length : end);
      if (field.includes('"'))
        throw new CsvSyntaxError('CSV_INVALID_OPENING_QUOTE', `record ${record}: a quote inside an unquoted field`);
      fields.push(field.trim());
      i = end < 0 ? text.length : end;
    }
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** Incremental parser: feed it text chunks, it returns the records completed so far. */
export class CsvRecords {
  private carry = '';
  /** A record with an open quoted field, waiting for its next line. */
  private pending: string | null = null;
  private first = true;
  private records = 0;

  /** Records completed by `chunk`. */
  push(chunk: string): string[][] {
    let text = this.carry + chunk;
    if (this.first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    const out: string[][] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl), out);
      start = nl + 1;
    }
    this.carry = text.slice(start);
    return out;
  }

  /** Records left at the end of the input; throws when a quoted field was never closed. */
  end(): string[][] {
    const out: string[][] = [];
    if (this.carry !== '') this.line(this.carry, out);
    this.carry = '';
    if (this.pending !== null)
      throw new CsvSyntaxError(
        'CSV_QUOTE_NOT_CLOSED',
        `record ${this.records + 1}: a quoted field is not closed at the end of the file`,
      );
    return out;
  }

  private line(raw: string, out: string[][]): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.pending === null && !line.includes('"')) {
      if (line.trim() === '') return;
      const fields = line.split(',');
      for (let i = 0; i < fields.length; i++) fields[i] = fields[i].trim();
      this.records++;
      out.push(fields);
      return;
    }
    const text = this.pending === null ? line : `${this.pending}\n${line}`;
    const fields = splitQuoted(text, this.records + 1);
    if (fields === null) {
      this.pending = text;
      return;
    }
    this.pending = null;
    this.records++;
    out.push(fields);
  }
}
