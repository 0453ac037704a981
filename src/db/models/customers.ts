import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import { bool, date, fenColumn, id, int, str } from "./columns";

export interface CustomerRow extends Model<InferAttributes<CustomerRow>, InferCreationAttributes<CustomerRow>> {
  id: CreationOptional<number>;
  code: string;
  name: string;
  level: string | null;
  creditLimitFen: number | null;
  contactName: string | null;
  phone: string | null;
  address: string | null;
  ownerUserId: number | null;
  paymentTermsDays: CreationOptional<number>;
  /** How the customer is reached in chat: a platform and its target (external user id, conversation, webhook). */
  chatPlatform: string | null;
  chatTarget: string | null;
  active: CreationOptional<boolean>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export function defineCustomer(s: Sequelize): ModelStatic<CustomerRow> {
  return s.define<CustomerRow>(
    "Customer",
    {
      id,
      code: str(64, false),
      name: str(128, false),
      level: str(16),
      creditLimitFen: fenColumn("creditLimitFen", true),
      contactName: str(64),
      phone: str(32),
      address: str(255),
      ownerUserId: int(true),
      paymentTermsDays: int(false, 30),
      chatPlatform: str(16),
      chatTarget: str(512),
      active: bool(true),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "customers", underscored: true },
  );
}
