import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import { DataTypes } from "sequelize";
import { date, int, jsonText, str } from "./columns";

/** One row per job: its last run (started, finished, duration, outcome) and running totals. */
export interface JobRunRow extends Model<InferAttributes<JobRunRow>, InferCreationAttributes<JobRunRow>> {
  name: string;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  /** running | ok | failed */
  outcome: string;
  result: Record<string, unknown> | null;
  error: string | null;
  instance: string | null;
  runs: CreationOptional<number>;
  failures: CreationOptional<number>;
}

function defineJobRun(s: Sequelize): ModelStatic<JobRunRow> {
  return s.define<JobRunRow>(
    "JobRun",
    {
      name: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
      startedAt: date(false),
      finishedAt: date(),
      durationMs: { type: DataTypes.INTEGER, allowNull: true },
      outcome: str(16, false),
      result: jsonText<Record<string, unknown>>("result"),
      error: { type: DataTypes.TEXT, allowNull: true },
      instance: str(128),
      runs: int(false, 0),
      failures: int(false, 0),
    },
    { tableName: "job_runs", underscored: true, timestamps: false },
  );
}

/** The JobRun model of this Sequelize instance, defined on first use (kept out of models/index.ts). */
export function jobRunModel(s: Sequelize): ModelStatic<JobRunRow> {
  return s.isDefined("JobRun") ? (s.model("JobRun") as ModelStatic<JobRunRow>) : defineJobRun(s);
}
