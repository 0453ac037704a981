import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import { bool, date, fenColumn, id, int, str } from "./columns";

export interface ProductRow extends Model<InferAttributes<ProductRow>, InferCreationAttributes<ProductRow>> {
  id: CreationOptional<number>;
  sku: string;
  barcode: string | null;
  name: string;
  unit: CreationOptional<string>;
  category: string | null;
  listPriceFen: number;
  floorPriceFen: number | null;
  active: CreationOptional<boolean>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface StockLevelRow extends Model<InferAttributes<StockLevelRow>, InferCreationAttributes<StockLevelRow>> {
  productId: number;
  onHand: number;
  reserved: CreationOptional<number>;
  safetyStock: CreationOptional<number>;
  updatedAt: CreationOptional<Date>;
}

export function defineProduct(s: Sequelize): ModelStatic<ProductRow> {
  return s.define<ProductRow>(
    "Product",
    {
      id,
      sku: str(64, false),
      barcode: str(64),
      name: str(128, false),
      unit: { ...str(16, false), defaultValue: "件" },
      category: str(64),
      listPriceFen: fenColumn("listPriceFen"),
      floorPriceFen: fenColumn("floorPriceFen", true),
      active: bool(true),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "products", underscored: true },
  );
}

export function defineStockLevel(s: Sequelize): ModelStatic<StockLevelRow> {
  return s.define<StockLevelRow>(
    "StockLevel",
    {
      productId: { ...int(false), primaryKey: true },
      onHand: int(false, 0),
      reserved: int(false, 0),
      safetyStock: int(false, 0),
      updatedAt: date(false),
    },
    { tableName: "stock_levels", underscored: true, createdAt: false },
  );
}
