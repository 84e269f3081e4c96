/** limit/offset of a listing; without a limit every row is returned (the CLI's listings). */
export interface Page {
  limit?: number;
  offset?: number;
}

export interface Paged<T> {
  rows: T[];
  /** Rows matching the filters, ignoring limit/offset. */
  total: number;
}
