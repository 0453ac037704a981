import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import type { RouteReason } from "../../domain/approval-rules";
import type { Escalation } from "../../domain/approval-escalation";
import type { StepStatus } from "../../domain/order-view";
import { bool, csvList, date, id, int, jsonText, str } from "./columns";

export interface ApprovalStepRow extends Model<InferAttributes<ApprovalStepRow>, InferCreationAttributes<ApprovalStepRow>> {
  id: CreationOptional<number>;
  orderId: number;
  round: number;
  stepNo: number;
  label: string;
  mode: "any" | "all";
  approverIds: number[];
  reasons: RouteReason[] | null;
  status: StepStatus;
  activatedAt: Date | null;
  decidedAt: Date | null;
  remindedAt: CreationOptional<Date | null>;
  remindCount: CreationOptional<number>;
  escalatedAt: CreationOptional<Date | null>;
  /** Who the step was escalated to, on whose behalf (see domain/approval-escalation.ts). */
  escalations: CreationOptional<Escalation[] | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface ApprovalDecisionRow
  extends Model<InferAttributes<ApprovalDecisionRow>, InferCreationAttributes<ApprovalDecisionRow>> {
  id: CreationOptional<number>;
  stepId: number;
  approverId: number;
  decision: "approve" | "reject";
  comment: string | null;
  decidedAt: Date;
}

export interface RuleSetRow extends Model<InferAttributes<RuleSetRow>, InferCreationAttributes<RuleSetRow>> {
  id: CreationOptional<number>;
  rules: unknown;
  active: boolean;
  createdBy: string;
  createdAt: CreationOptional<Date>;
}

export function defineApprovalStep(s: Sequelize): ModelStatic<ApprovalStepRow> {
  return s.define<ApprovalStepRow>(
    "ApprovalStep",
    {
      id,
      orderId: int(false),
      round: int(false),
      stepNo: int(false),
      label: str(64, false),
      mode: str(8, false),
      approverIds: csvList("approverIds", "number"),
      reasons: jsonText<RouteReason[]>("reasons"),
      status: str(16, false),
      activatedAt: date(),
      decidedAt: date(),
      remindedAt: date(),
      remindCount: int(false, 0),
      escalatedAt: date(),
      escalations: jsonText<Escalation[]>("escalations"),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "approval_steps", underscored: true },
  );
}

export function defineApprovalDecision(s: Sequelize): ModelStatic<ApprovalDecisionRow> {
  return s.define<ApprovalDecisionRow>(
    "ApprovalDecision",
    {
      id,
      stepId: int(false),
      approverId: int(false),
      decision: str(8, false),
      comment: str(500),
      decidedAt: date(false),
    },
    { tableName: "approval_decisions", underscored: true, timestamps: false },
  );
}

export function defineRuleSet(s: Sequelize): ModelStatic<RuleSetRow> {
  return s.define<RuleSetRow>(
    "RuleSet",
    {
      id,
      rules: jsonText<unknown>("rules", false),
      active: bool(true),
      createdBy: str(64, false),
      createdAt: date(false),
    },
    { tableName: "approval_rule_sets", underscored: true, updatedAt: false },
  );
}
