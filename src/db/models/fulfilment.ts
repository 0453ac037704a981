import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import { date, fenColumn, id, int, str } from "./columns";

export interface ShipmentRow extends Model<InferAttributes<ShipmentRow>, InferCreationAttributes<ShipmentRow>> {
  id: CreationOptional<number>;
  orderId: number;
  carrier: string;
  trackingNo: string;
  shippedAt: Date;
  createdBy: string;
}

export interface ShipmentLineRow extends Model<InferAttributes<ShipmentLineRow>, InferCreationAttributes<ShipmentLineRow>> {
  id: CreationOptional<number>;
  shipmentId: number;
  orderLineId: number;
  qty: number;
}

export interface PaymentRow extends Model<InferAttributes<PaymentRow>, InferCreationAttributes<PaymentRow>> {
  id: CreationOptional<number>;
  orderId: number;
  amountFen: number;
  paidAt: Date;
  method: string | null;
  reference: string | null;
  createdBy: string;
  createdAt: CreationOptional<Date>;
}

export function defineShipment(s: Sequelize): ModelStatic<ShipmentRow> {
  return s.define<ShipmentRow>(
    "Shipment",
    {
      id,
      orderId: int(false),
      carrier: str(64, false),
      trackingNo: str(64, false),
      shippedAt: date(false),
      createdBy: str(64, false),
    },
    { tableName: "shipments", underscored: true, timestamps: false },
  );
}

export function defineShipmentLine(s: Sequelize): ModelStatic<ShipmentLineRow> {
  return s.define<ShipmentLineRow>(
    "ShipmentLine",
    { id, shipmentId: int(false), orderLineId: int(false), qty: int(false) },
    { tableName: "shipment_lines", underscored: true, timestamps: false },
  );
}

export function definePayment(s: Sequelize): ModelStatic<PaymentRow> {
  return s.define<PaymentRow>(
    "Payment",
    {
      id,
      orderId: int(false),
      amountFen: fenColumn("amountFen"),
      paidAt: date(false),
      method: str(32),
      reference: str(128),
      createdBy: str(64, false),
      createdAt: date(false),
    },
    { tableName: "payments", underscored: true, updatedAt: false },
  );
}
