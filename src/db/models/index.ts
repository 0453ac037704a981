import type { Sequelize } from "sequelize";
import { defineApprovalDecision, defineApprovalStep, defineRuleSet } from "./approvals";
import { defineCustomer, defineCustomerNotice } from "./customers";
import { definePayment, defineShipment, defineShipmentLine } from "./fulfilment";
import {
  defineApiKey,
  defineAuditEvent,
  defineCardRef,
  defineInboundEvent,
  defineOutbox,
  defineWebhookSubscription,
} from "./messaging";
import { defineOrder, defineOrderLine } from "./orders";
import { defineProduct, defineStockLevel } from "./products";
import { defineUser } from "./users";

/** Every model bound to one Sequelize instance; built per app so tests never share state. */
export function defineModels(s: Sequelize) {
  return {
    User: defineUser(s),
    Customer: defineCustomer(s),
    CustomerNotice: defineCustomerNotice(s),
    Product: defineProduct(s),
    StockLevel: defineStockLevel(s),
    Order: defineOrder(s),
    OrderLine: defineOrderLine(s),
    ApprovalStep: defineApprovalStep(s),
    ApprovalDecision: defineApprovalDecision(s),
    RuleSet: defineRuleSet(s),
    Shipment: defineShipment(s),
    ShipmentLine: defineShipmentLine(s),
    Payment: definePayment(s),
    CardRef: defineCardRef(s),
    AuditEvent: defineAuditEvent(s),
    Outbox: defineOutbox(s),
    InboundEvent: defineInboundEvent(s),
    ApiKey: defineApiKey(s),
    WebhookSubscription: defineWebhookSubscription(s),
  };
}

export type Models = ReturnType<typeof defineModels>;
