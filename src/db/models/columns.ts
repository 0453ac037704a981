import { DataTypes, type ModelAttributeColumnOptions, type Model } from "sequelize";

/** A TEXT column holding JSON: the model sees the value, the database a string (portable to SQLite and MariaDB). */
export function jsonText<T>(name: string, allowNull = true): ModelAttributeColumnOptions<Model> {
  return {
    type: DataTypes.TEXT,
    allowNull,
    get(this: Model) {
      const raw = this.getDataValue(name) as string | null;
      return raw == null ? null : (JSON.parse(raw) as T);
    },
    set(this: Model, value: T | null) {
      this.setDataValue(name, value == null ? null : JSON.stringify(value));
    },
  };
}

/** A short list stored comma-separated, so it stays indexable text on every dialect. */
export function csvList(name: string, kind: "string" | "number"): ModelAttributeColumnOptions<Model> {
  return {
    type: DataTypes.STRING(512),
    allowNull: false,
    defaultValue: "",
    get(this: Model) {
      const raw = (this.getDataValue(name) as string | null) ?? "";
      const items = raw.split(",").filter(Boolean);
      return kind === "number" ? items.map(Number) : items;
    },
    set(this: Model, value: Array<string | number>) {
      this.setDataValue(name, value.join(","));
    },
  };
}

/** BIGINT money columns come back as strings from some drivers; the model always sees integers. */
export function fenColumn(name: string, allowNull = false): ModelAttributeColumnOptions<Model> {
  return {
    type: DataTypes.BIGINT,
    allowNull,
    ...(allowNull ? {} : { defaultValue: 0 }),
    get(this: Model) {
      const raw = this.getDataValue(name) as number | string | null;
      return raw == null ? null : Number(raw);
    },
  };
}

export const date = (allowNull = true) => ({ type: DataTypes.DATE(3), allowNull });
export const int = (allowNull = false, defaultValue?: number) => ({
  type: DataTypes.INTEGER,
  allowNull,
  ...(defaultValue === undefined ? {} : { defaultValue }),
});
export const str = (len: number, allowNull = true) => ({ type: DataTypes.STRING(len), allowNull });
export const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
export const bigId = {
  type: DataTypes.BIGINT,
  primaryKey: true,
  autoIncrement: true,
  get(this: Model) {
    return Number(this.getDataValue("id"));
  },
};
export const bool = (defaultValue: boolean) => ({ type: DataTypes.BOOLEAN, allowNull: false, defaultValue });
