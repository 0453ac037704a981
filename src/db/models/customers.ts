import type { CreationOptional, InferAttributes, InferCreationAttributes, Model, ModelStatic, Sequelize } from "sequelize";
import type { CustomerNoticeKind } from "../../domain/order-view";
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
  /** A WeCom external contact (external_userid) and the member (userid) whose contact it is (wecom.md 7.2). */
  wecomExternalUserId: CreationOptional<string | null>;
  wecomOwnerUserId: CreationOptional<string | null>;
  /** A DingTalk group our robot is in (openConversationId), or a group's custom robot and its signing secret (dingtalk.md 4). */
  dingtalkConversationId: CreationOptional<string | null>;
  dingtalkWebhookUrl: CreationOptional<string | null>;
  dingtalkWebhookSecret: CreationOptional<string | null>;
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
      wecomExternalUserId: str(64),
      wecomOwnerUserId: str(64),
      dingtalkConversationId: str(128),
      dingtalkWebhookUrl: str(512),
      dingtalkWebhookSecret: str(128),
      active: bool(true),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "customers", underscored: true },
  );
}

export type CustomerNoticeState = "queued" | "awaiting_owner" | "sent" | "failed" | "expired";

/** One notice to a customer and how far it got; `target` never holds a credential such as a robot key. */
export interface CustomerNoticeRow extends Model<InferAttributes<CustomerNoticeRow>, InferCreationAttributes<CustomerNoticeRow>> {
  id: CreationOptional<number>;
  orderId: number;
  shipmentId: number | null;
  kind: CreationOptional<CustomerNoticeKind>;
  dedupeKey: string;
  channel: string;
  target: string;
  msgid: CreationOptional<string | null>;
  state: CustomerNoticeState;
  error: CreationOptional<string | null>;
  acceptedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export function defineCustomerNotice(s: Sequelize): ModelStatic<CustomerNoticeRow> {
  return s.define<CustomerNoticeRow>(
    "CustomerNotice",
    {
      id,
      orderId: int(false),
      shipmentId: int(true),
      kind: { ...str(16, false), defaultValue: "shipment" },
      dedupeKey: str(191, false),
      channel: str(32, false),
      target: str(191, false),
      msgid: str(128),
      state: str(16, false),
      error: str(500),
      acceptedAt: date(),
      createdAt: date(false),
      updatedAt: date(false),
    },
    { tableName: "customer_notices", underscored: true },
  );
}

/**
 * The CustomerNotice model of this Sequelize instance, defined on first use. Works whether or not
 * models/index.ts registers it, so callers need not change when it does.
 */
export function customerNoticeModel(s: Sequelize): ModelStatic<CustomerNoticeRow> {
  return s.isDefined("CustomerNotice") ? (s.model("CustomerNotice") as ModelStatic<CustomerNoticeRow>) : defineCustomerNotice(s);
}
