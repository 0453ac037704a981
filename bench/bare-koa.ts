/**
 * The baseline process of bench/startup.ts: Koa and one handler, nothing else loaded, so its start time
 * and memory are what any Koa service pays before doing anything of its own.
 */
import Koa from "koa";

const app = new Koa();
app.use((ctx) => {
  ctx.body = { status: "ok" };
});
const server = app.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
