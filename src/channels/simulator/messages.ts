import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import type { Card } from "../../domain/card";
import { date, id, jsonText, str } from "../../db/models/columns";

export interface SimMessageRow extends Model<InferAttributes<SimMessageRow>, InferCreationAttributes<SimMessageRow>> {
  id: CreationOptional<number>;
  /** "user:<platform user id>" or "customer:<target>". */
  conversation: string;
  /** in: typed by the person; out: sent by ChatOrder. */
  direction: "in" | "out";
  kind: "text" | "card";
  text: string | null;
  card: Card | null;
  dedupeKey: string | null;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

/** The simulator's own table; defined here because only the simulator uses it. */
export function defineSimMessage(s: Sequelize): ModelStatic<SimMessageRow> {
  return s.define<SimMessageRow>(
    "SimMessage",
    {
      id,
      conversation: str(191, false),
      direction: str(4, false),
      kind: str(8, false),
      text: { type: "TEXT", allowNull: true },
      card: jsonText<Card>("card"),
      dedupeKey: str(191),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "sim_messages", underscored: true },
  );
}
