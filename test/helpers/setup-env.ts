// Tests never read the developer's shell settings by accident: each test app passes its own env.
process.env.TZ = "UTC";
