import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import { bigId, bool, date, id, int, jsonText, str } from "./columns";

export type OutboxStatus = "pending" | "leased" | "sending" | "sent" | "dead";

export interface OutboxRow extends Model<InferAttributes<OutboxRow>, InferCreationAttributes<OutboxRow>> {
  id: CreationOptional<number>;
  topic: string;
  payload: Record<string, unknown>;
  dedupeKey: string;
  status: CreationOptional<OutboxStatus>;
  attempts: CreationOptional<number>;
  nextAttemptAt: Date;
  leaseUntil: CreationOptional<Date | null>;
  leasedBy: CreationOptional<string | null>;
  /** What the platform answered when the message went out (message id, card handle): proof it was sent. */
  platformRef: CreationOptional<unknown> | null;
  lastError: CreationOptional<string | null>;
  sentAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  /** The request or inbound event that wrote it (migration 0007); its deliveries log the same id. */
  traceId: CreationOptional<string | null>;
}

export interface InboundEventRow extends Model<InferAttributes<InboundEventRow>, InferCreationAttributes<InboundEventRow>> {
  id: CreationOptional<number>;
  platform: string;
  eventKey: string;
  kind: string;
  payload: Record<string, unknown>;
  status: CreationOptional<"received" | "processed" | "failed">;
  attempts: CreationOptional<number>;
  lastError: CreationOptional<string | null>;
  receivedAt: Date;
  processedAt: CreationOptional<Date | null>;
}

export interface CardRefRow extends Model<InferAttributes<CardRefRow>, InferCreationAttributes<CardRefRow>> {
  id: CreationOptional<number>;
  orderId: number;
  stepId: number | null;
  kind: string;
  platform: string;
  userId: number | null;
  /** Whatever the platform needs to update this card later (WeCom task_id + response_code, DingTalk outTrackId). */
  platformRef: Record<string, unknown>;
  live: CreationOptional<boolean>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
  /**
   * The update codes of the card's one recipient (migration 0008; WeCom only, wecom.md 5.4): the id its
   * click callbacks name it by, the recipient's latest tap code with when it was issued and when it was
   * spent (null: unused), and when the code the send came with (in platformRef) was spent.
   */
  taskId: CreationOptional<string | null>;
  responseCode: CreationOptional<string | null>;
  codeIssuedAt: CreationOptional<Date | null>;
  codeUsedAt: CreationOptional<Date | null>;
  sendCodeUsedAt: CreationOptional<Date | null>;
}

export interface AuditEventRow extends Model<InferAttributes<AuditEventRow>, InferCreationAttributes<AuditEventRow>> {
  id: CreationOptional<number>;
  entity: string;
  entityId: string;
  action: string;
  actor: string;
  at: Date;
  before: unknown;
  after: unknown;
  reason: string | null;
}

export interface ApiKeyRow extends Model<InferAttributes<ApiKeyRow>, InferCreationAttributes<ApiKeyRow>> {
  id: CreationOptional<number>;
  name: string;
  prefix: string;
  hash: string;
  createdAt: CreationOptional<Date>;
  lastUsedAt: CreationOptional<Date | null>;
  revokedAt: CreationOptional<Date | null>;
}

export interface WebhookSubscriptionRow
  extends Model<InferAttributes<WebhookSubscriptionRow>, InferCreationAttributes<WebhookSubscriptionRow>> {
  id: CreationOptional<number>;
  url: string;
  secret: string;
  events: string;
  active: CreationOptional<boolean>;
  createdAt: CreationOptional<Date>;
}

export function defineOutbox(s: Sequelize): ModelStatic<OutboxRow> {
  return s.define<OutboxRow>(
    "Outbox",
    {
      id: bigId,
      topic: str(48, false),
      payload: jsonText<Record<string, unknown>>("payload", false),
      dedupeKey: str(191, false),
      status: { ...str(16, false), defaultValue: "pending" },
      attempts: int(false, 0),
      nextAttemptAt: date(false),
      leaseUntil: date(),
      leasedBy: str(64),
      platformRef: jsonText<unknown>("platformRef"),
      lastError: { type: "TEXT", allowNull: true },
      sentAt: date(),
      createdAt: date(false),
      traceId: str(64),
    },
    { tableName: "outbox", underscored: true, updatedAt: false },
  );
}

export function defineInboundEvent(s: Sequelize): ModelStatic<InboundEventRow> {
  return s.define<InboundEventRow>(
    "InboundEvent",
    {
      id: bigId,
      platform: str(16, false),
      eventKey: str(191, false),
      kind: str(24, false),
      payload: jsonText<Record<string, unknown>>("payload", false),
      status: { ...str(16, false), defaultValue: "received" },
      attempts: int(false, 0),
      lastError: { type: "TEXT", allowNull: true },
      receivedAt: date(false),
      processedAt: date(),
    },
    { tableName: "inbound_events", underscored: true, timestamps: false },
  );
}

export function defineCardRef(s: Sequelize): ModelStatic<CardRefRow> {
  return s.define<CardRefRow>(
    "CardRef",
    {
      id,
      orderId: int(false),
      stepId: int(true),
      kind: str(24, false),
      platform: str(16, false),
      userId: int(true),
      platformRef: jsonText<Record<string, unknown>>("platformRef", false),
      live: bool(true),
      createdAt: date(false),
      updatedAt: date(false),
      taskId: str(128),
      responseCode: str(512),
      codeIssuedAt: date(),
      codeUsedAt: date(),
      sendCodeUsedAt: date(),
    },
    { tableName: "card_refs", underscored: true },
  );
}

export function defineAuditEvent(s: Sequelize): ModelStatic<AuditEventRow> {
  return s.define<AuditEventRow>(
    "AuditEvent",
    {
      id: bigId,
      entity: str(32, false),
      entityId: str(64, false),
      action: str(48, false),
      actor: str(64, false),
      at: date(false),
      before: jsonText<unknown>("before"),
      after: jsonText<unknown>("after"),
      reason: str(500),
    },
    { tableName: "audit_events", underscored: true, timestamps: false },
  );
}

export function defineApiKey(s: Sequelize): ModelStatic<ApiKeyRow> {
  return s.define<ApiKeyRow>(
    "ApiKey",
    {
      id,
      name: str(64, false),
      prefix: str(16, false),
      hash: str(64, false),
      createdAt: date(false),
      lastUsedAt: date(),
      revokedAt: date(),
    },
    { tableName: "api_keys", underscored: true, updatedAt: false },
  );
}

export function defineWebhookSubscription(s: Sequelize): ModelStatic<WebhookSubscriptionRow> {
  return s.define<WebhookSubscriptionRow>(
    "WebhookSubscription",
    {
      id,
      url: str(512, false),
      secret: str(128, false),
      events: str(512, false),
      active: bool(true),
      createdAt: date(false),
    },
    { tableName: "webhook_subscriptions", underscored: true, updatedAt: false },
  );
}
