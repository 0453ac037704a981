import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import type { Role } from "../../domain/roles";
import { bool, csvList, date, id, int, str } from "./columns";

export interface UserRow extends Model<InferAttributes<UserRow>, InferCreationAttributes<UserRow>> {
  id: CreationOptional<number>;
  platform: string;
  platformUserId: string;
  name: string;
  mobile: string | null;
  roles: Role[];
  locale: CreationOptional<string>;
  managerId: number | null;
  department: string | null;
  active: CreationOptional<boolean>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export function defineUser(s: Sequelize): ModelStatic<UserRow> {
  return s.define<UserRow>(
    "User",
    {
      id,
      platform: str(16, false),
      platformUserId: str(128, false),
      name: str(64, false),
      mobile: str(32),
      roles: csvList("roles", "string"),
      locale: { ...str(8, false), defaultValue: "zh-CN" },
      managerId: int(true),
      department: str(128),
      active: bool(true),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "users", underscored: true },
  );
}
