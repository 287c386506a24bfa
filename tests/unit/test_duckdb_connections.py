"""The pipeline's DuckDB connections draw no progress bar: DuckDB draws one on stdout for a query
over two seconds, and in an Airflow task log, or under `cdi run`'s own bar, it is noise."""

from pipelines import history, reconcile


def _draws_progress_bar(connection) -> bool:
    return connection.execute("select current_setting('enable_progress_bar')").fetchone()[0]


def test_reconcile_connection_draws_no_progress_bar():
    with reconcile.open_connection() as connection:
        assert _draws_progress_bar(connection) is False


def test_history_connection_draws_no_progress_bar():
    with history._connection() as connection:
        assert _draws_progress_bar(connection) is False
