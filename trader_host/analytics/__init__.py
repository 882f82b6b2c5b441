"""Trade analytics: the Athena named queries (queries/*.sql) run on DuckDB over the lake, and the report.

`lake` reads the JSON lines Firehose wrote (a folder or an S3 bucket), `schema` holds the Glue columns,
`local_athena` loads the lake into DuckDB and runs the transpiled SQL, `tables` prints results,
`report_page` writes the HTML page with `svg` charts (`equity_charts`: by day, or by round trip on a
single day). DuckDB and sqlglot are imported only here, never by the live host.
"""
