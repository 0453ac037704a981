import { SYSTEM_ACTOR } from "../domain/roles";
import type { Role } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { upsertCustomers } from "./upsert-customers";
import { upsertProducts } from "./upsert-products";
import { setStock } from "./adjust-stock";

interface DemoUser {
  uid: string;
  name: string;
  roles: Role[];
  manager?: string;
  mobile: string;
}

const USERS: DemoUser[] = [
  { uid: "director", name: "周总监", roles: ["director", "manager"], mobile: "13800000001" },
  { uid: "manager", name: "李经理", roles: ["manager"], manager: "director", mobile: "13800000002" },
  { uid: "sales", name: "王小明", roles: ["sales"], manager: "manager", mobile: "13800000003" },
  { uid: "sales2", name: "刘芳", roles: ["sales"], manager: "manager", mobile: "13800000004" },
  { uid: "finance", name: "赵敏", roles: ["finance"], manager: "director", mobile: "13800000005" },
  { uid: "warehouse", name: "陈师傅", roles: ["warehouse"], mobile: "13800000006" },
  { uid: "admin", name: "系统管理员", roles: ["admin"], mobile: "13800000007" },
];

const CUSTOMERS = [
  { code: "HDYL", name: "华东医疗器械有限公司", level: "A", creditLimitFen: 50_000_000, contactName: "孙采购", phone: "021-55550001", address: "上海市浦东新区张江路 88 号" },
  { code: "ACME", name: "ACME Trading Co.", level: "B", creditLimitFen: 10_000_000, contactName: "Amy Chen", phone: "0755-55550002", address: "深圳市南山区科技园 1 栋" },
  { code: "BJKF", name: "北京康复医院", level: "VIP", creditLimitFen: 100_000_000, contactName: "吴主任", phone: "010-55550003", address: "北京市海淀区中关村南大街 5 号" },
  { code: "GZYJ", name: "广州仁和药房连锁", level: "B", creditLimitFen: 3_000_000, contactName: "何店长", phone: "020-55550004", address: "广州市天河区体育西路 12 号" },
  { code: "CDXL", name: "成都西岭诊所", level: "C", creditLimitFen: 500_000, contactName: "杨医生", phone: "028-55550005", address: "成都市武侯区人民南路 4 段" },
];

const PRODUCTS: Array<[sku: string, name: string, unit: string, category: string, listYuan: number, floorYuan: number, onHand: number]> = [
  ["SKU-1001", "N95口罩", "箱", "防护用品", 32, 26, 1200],
  ["SKU-1002", "医用外科口罩", "箱", "防护用品", 18, 15, 2000],
  ["SKU-1003", "儿童口罩", "盒", "防护用品", 25, 20, 300],
  ["SKU-2001", "乳胶手套", "盒", "防护用品", 28, 22, 800],
  ["SKU-2002", "丁腈手套", "盒", "防护用品", 15, 12, 1500],
  ["SKU-2003", "PE一次性手套", "包", "防护用品", 6, 4.5, 5000],
  ["SKU-3001", "医用防护服", "件", "防护用品", 85, 70, 400],
  ["SKU-3002", "隔离衣", "件", "防护用品", 22, 18, 600],
  ["SKU-3003", "防护面屏", "个", "防护用品", 9.9, 7, 1000],
  ["SKU-4001", "75%酒精消毒液 500ml", "瓶", "消毒用品", 12, 9, 3000],
  ["SKU-4002", "免洗洗手液 300ml", "瓶", "消毒用品", 16, 12, 1800],
  ["SKU-4003", "84消毒液 1L", "瓶", "消毒用品", 8.5, 6, 2500],
  ["SKU-4004", "碘伏棉签", "盒", "消毒用品", 5, 3.5, 4000],
  ["SKU-5001", "电子体温计", "支", "医疗器械", 39, 30, 500],
  ["SKU-5002", "红外额温枪", "把", "医疗器械", 129, 99, 150],
  ["SKU-5003", "指夹式血氧仪", "台", "医疗器械", 199, 160, 120],
  ["SKU-5004", "电子血压计", "台", "医疗器械", 268, 210, 80],
  ["SKU-6001", "一次性注射器 5ml", "盒", "耗材", 30, 24, 900],
  ["SKU-6002", "医用纱布块", "包", "耗材", 12, 9, 2200],
  ["SKU-6003", "医用胶带", "卷", "耗材", 4, 3, 3500],
];

/** The demo company: users for every role on the simulator, customers and stocked products. Idempotent. */
export async function seedDemoData(deps: ServiceDeps): Promise<{ created: boolean }> {
  const m = deps.db.models;
  if ((await m.User.count({ where: { platform: "simulator" } })) > 0) return { created: false };
  const ids = new Map<string, number>();
  await deps.db.transaction(async (tx) => {
    for (const u of USERS) {
      const row = await m.User.create(
        {
          platform: "simulator",
          platformUserId: u.uid,
          name: u.name,
          mobile: u.mobile,
          roles: u.roles,
          managerId: u.manager ? (ids.get(u.manager) ?? null) : null,
          department: u.roles.includes("warehouse") ? "仓储部" : u.roles.includes("finance") ? "财务部" : "销售部",
        },
        { transaction: tx },
      );
      ids.set(u.uid, row.id);
    }
  });
  await upsertCustomers(
    deps,
    CUSTOMERS.map((c, i) => ({
      ...c,
      ownerUserId: ids.get(i % 2 === 0 ? "sales" : "sales2") ?? null,
      chatPlatform: "simulator",
      chatTarget: c.code,
    })),
    SYSTEM_ACTOR,
  );
  await upsertProducts(
    deps,
    PRODUCTS.map(([sku, name, unit, category, list, floor], i) => ({
      sku,
      name,
      unit,
      category,
      barcode: `69${String(20261000 + i).padStart(11, "0")}`,
      listPriceFen: Math.round(list * 100),
      floorPriceFen: Math.round(floor * 100),
      safetyStock: 50,
    })),
    SYSTEM_ACTOR,
  );
  for (const [sku, , , , , , onHand] of PRODUCTS) await setStock(deps, { sku, onHand, reason: "demo data" }, SYSTEM_ACTOR);
  return { created: true };
}
