import Router from "@koa/router";
import type { HttpDeps } from "../../deps";
import { inBody, parse } from "../../parse";
import { CustomersBody, ListQuery, ProductsBody, SkuParams, StockBody } from "./schemas";

/** /api/v1/products, /customers and /stock: master data and stock levels kept in step with the ERP/WMS. */
export function catalogRoutes({ services }: HttpDeps): Router {
  const router = new Router();

  router.get("/products", async (ctx) => {
    ctx.body = await services.listProducts(parse(ListQuery, ctx.query, "query"));
  });

  router.put("/products", async (ctx) => {
    const items = parse(ProductsBody, ctx.request.body, "body");
    const single = !Array.isArray(ctx.request.body);
    const saved = await inBody(services.upsertProducts(items, ctx.state.actor), { single });
    ctx.body = { items: saved };
  });

  router.get("/customers", async (ctx) => {
    ctx.body = await services.listCustomers(parse(ListQuery, ctx.query, "query"));
  });

  router.put("/customers", async (ctx) => {
    const items = parse(CustomersBody, ctx.request.body, "body");
    const single = !Array.isArray(ctx.request.body);
    ctx.body = { items: await inBody(services.upsertCustomers(items, ctx.state.actor), { single }) };
  });

  router.get("/stock/:sku", async (ctx) => {
    const { sku } = parse(SkuParams, ctx.params, "params");
    const { name: _name, unit: _unit, ...stock } = await services.getStock(sku);
    ctx.body = stock;
  });

  router.put("/stock/:sku", async (ctx) => {
    const { sku } = parse(SkuParams, ctx.params, "params");
    const input = parse(StockBody, ctx.request.body, "body");
    const { name: _name, unit: _unit, ...stock } = await services.setStock({ sku, ...input }, ctx.state.actor);
    ctx.body = stock;
  });

  return router;
}
