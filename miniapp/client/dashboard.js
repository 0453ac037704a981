// The dashboard's charts: ECharts with only the chart types and components used here (tree-shaken by
// esbuild), drawn from the figures the server put in the page's JSON island.
import { BarChart, FunnelChart, LineChart } from "echarts/charts";
import { GridComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, FunnelChart, GridComponent, TooltipComponent, CanvasRenderer]);

const yuan = (fen) => Math.round(fen) / 100;
const grid = { left: 8, right: 12, top: 16, bottom: 8, containLabel: true };
// Tooltips drawn on the canvas: the HTML tooltip writes style="" attributes, which the page's
// Content-Security-Policy (style-src without 'unsafe-inline') refuses.
const tooltip = (trigger) => ({ trigger, confine: true, renderMode: "richText" });

function draw(id, option) {
  const el = document.getElementById(id);
  if (!el) return null;
  const chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({ animation: false, tooltip: tooltip("axis"), grid, ...option });
  return chart;
}

function start() {
  const island = document.getElementById("dashboard-data");
  if (!island) return;
  const d = JSON.parse(island.textContent || "{}");
  const charts = [
    draw("chart-trend", {
      xAxis: { type: "category", data: d.trend.map((p) => p.period) },
      yAxis: { type: "value" },
      series: [{ name: d.labels.amount, type: "line", smooth: true, areaStyle: {}, data: d.trend.map((p) => yuan(p.amountFen)) }],
    }),
    draw("chart-products", {
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: d.topProducts.map((p) => p.name) },
      series: [{ name: d.labels.amount, type: "bar", data: d.topProducts.map((p) => yuan(p.amountFen)) }],
    }),
    draw("chart-reps", {
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: d.byRep.map((r) => r.name) },
      series: [{ name: d.labels.amount, type: "bar", data: d.byRep.map((r) => yuan(r.amountFen)) }],
    }),
    draw("chart-funnel", {
      tooltip: tooltip("item"),
      series: [{ type: "funnel", sort: "none", left: 8, right: 8, top: 8, bottom: 8, label: { position: "inside" }, data: d.funnel }],
    }),
  ].filter(Boolean);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
