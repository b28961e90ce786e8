"""Serving under load: a load generator (Poisson arrivals or closed-loop clients, a bounded
queue, dynamic batching) and the operating point it finds, `server_qps`."""
