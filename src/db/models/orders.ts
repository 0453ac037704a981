import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import type { RouteReason } from "../../domain/approval-rules";
import type { OrderStatus } from "../../domain/order-state";
import type { OrderSource } from "../../domain/order-view";
import { bool, date, fenColumn, id, int, jsonText, str } from "./columns";

export interface OrderRow extends Model<InferAttributes<OrderRow>, InferCreationAttributes<OrderRow>> {
  id: CreationOptional<number>;
  orderNo: string;
  customerId: number;
  salesRepId: number | null;
  status: OrderStatus;
  totalFen: number;
  paidFen: CreationOptional<number>;
  paymentTermsDays: number;
  dueAt: Date | null;
  shipToName: string | null;
  shipToPhone: string | null;
  shipToAddress: string | null;
  note: string | null;
  source: OrderSource;
  idempotencyKey: string | null;
  approvalRound: CreationOptional<number>;
  autoApproved: CreationOptional<boolean>;
  approvalReasons: RouteReason[] | null;
  version: CreationOptional<number>;
  createdBy: string;
  submittedAt: Date | null;
  approvedAt: Date | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  /** Set when housekeeping archived an untouched draft. */
  archivedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface OrderLineRow extends Model<InferAttributes<OrderLineRow>, InferCreationAttributes<OrderLineRow>> {
  id: CreationOptional<number>;
  orderId: number;
  lineNo: number;
  productId: number;
  sku: string;
  name: string;
  unit: string;
  category: string | null;
  listPriceFen: number;
  floorPriceFen: number | null;
  unitPriceFen: number;
  qty: number;
  lineTotalFen: number;
  pickedQty: CreationOptional<number>;
  shippedQty: CreationOptional<number>;
}

export function defineOrder(s: Sequelize): ModelStatic<OrderRow> {
  return s.define<OrderRow>(
    "Order",
    {
      id,
      orderNo: str(32, false),
      customerId: int(false),
      salesRepId: int(true),
      status: str(24, false),
      totalFen: fenColumn("totalFen"),
      paidFen: fenColumn("paidFen"),
      paymentTermsDays: int(false, 30),
      dueAt: date(),
      shipToName: str(64),
      shipToPhone: str(32),
      shipToAddress: str(255),
      note: str(500),
      source: str(16, false),
      idempotencyKey: str(128),
      approvalRound: int(false, 0),
      autoApproved: bool(false),
      approvalReasons: jsonText<RouteReason[]>("approvalReasons"),
      version: int(false, 1),
      createdBy: str(64, false),
      submittedAt: date(),
      approvedAt: date(),
      shippedAt: date(),
      deliveredAt: date(),
      completedAt: date(),
      cancelledAt: date(),
      cancelReason: str(500),
      archivedAt: date(),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "orders", underscored: true },
  );
}

export function defineOrderLine(s: Sequelize): ModelStatic<OrderLineRow> {
  return s.define<OrderLineRow>(
    "OrderLine",
    {
      id,
      orderId: int(false),
      lineNo: int(false),
      productId: int(false),
      sku: str(64, false),
      name: str(128, false),
      unit: str(16, false),
      category: str(64),
      listPriceFen: fenColumn("listPriceFen"),
      floorPriceFen: fenColumn("floorPriceFen", true),
      unitPriceFen: fenColumn("unitPriceFen"),
      qty: int(false),
      lineTotalFen: fenColumn("lineTotalFen"),
      pickedQty: int(false, 0),
      shippedQty: int(false, 0),
    },
    { tableName: "order_lines", underscored: true, timestamps: false },
  );
}
