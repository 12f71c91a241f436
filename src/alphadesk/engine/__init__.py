"""The application core: ports, the fill writer, routing, risk, portfolio. No adapter imports."""
