import type { ServiceDeps } from "./deps";
import { bindDeps } from "./bind";
import { authenticateApiKey, createApiKey, listApiKeys, revokeApiKey } from "./api-keys";
import { cancelOrder } from "./cancel-order";
import { decideApproval } from "./decide-approval";
import { confirmPicked, deliverOrder, packOrder, startPicking } from "./fulfil-order";
import { listOrders } from "./list-orders";
import { listCustomers, listProducts } from "./list-catalog";
import { createOrderIntake } from "./order-intake";
import { loadPreviewView } from "./preview-order";
import { recordPayment } from "./record-payment";
import { reviseOrder } from "./revise-order";
import { getActiveRuleSet, saveRuleSet } from "./save-rule-set";
import { shipOrder } from "./ship-order";
import { getStock, knownSkus, listLowStock, setStock, setStockMany } from "./adjust-stock";
import { submitOrder } from "./submit-order";
import { upsertCustomers } from "./upsert-customers";
import { upsertProducts } from "./upsert-products";
import { createWebhook, listWebhooks, removeWebhook } from "./webhooks";
import { findOrderId, loadOrderView } from "./support/load-order";
import { loadOrderTimeline } from "./support/order-timeline";
import { countWork } from "./count-work";
import { listPendingApprovals, orderApproverIds } from "./list-pending-approvals";
import { listWarehouseQueue } from "./list-warehouse-queue";
import { loadViewer, userNames } from "./load-viewer";
import { quoteOrder } from "./quote-order";
import { searchCustomers } from "./search-customers";
import { setUserLocale } from "./user-locale";
import { findPlatformUser, listUsers, setUserRoles } from "./users";
import { listOutboxMessages, retryDeadOutbox } from "./outbox-admin";
import { listProductsByIds } from "./upsert-products";
import { dashboardFigures } from "./reports/dashboard";
import { listJobRuns } from "./job-runs";

/** Every use case with its dependencies bound: what http, bot, jobs and the CLI call. */
export function createServices(deps: ServiceDeps) {
  const intake = createOrderIntake(deps);
  const bound = bindDeps(deps, {
    reviseOrder,
    submitOrder,
    decideApproval,
    cancelOrder,
    startPicking,
    confirmPicked,
    packOrder,
    shipOrder,
    deliverOrder,
    recordPayment,
    listOrders,
    listProducts,
    listCustomers,
    loadOrderView,
    loadPreviewView,
    loadOrderTimeline,
    findOrderId,
    upsertProducts,
    upsertCustomers,
    getStock,
    setStock,
    listLowStock,
    createApiKey,
    authenticateApiKey,
    revokeApiKey,
    listApiKeys,
    saveRuleSet,
    createWebhook,
    listWebhooks,
    removeWebhook,
    getActiveRuleSet,
    // The mini-app's reads.
    loadViewer,
    userNames,
    countWork,
    listPendingApprovals,
    orderApproverIds,
    listWarehouseQueue,
    quoteOrder,
    searchCustomers,
    findPlatformUser,
    listProductsByIds,
    dashboardFigures,
    listJobRuns,
    // The admin pages.
    listUsers,
    setUserRoles,
    // The person's own language (the bot's "English" / "中文", the mini-app's switch).
    setUserLocale,
    listOutboxMessages,
    retryDeadOutbox,
    setStockMany,
    knownSkus,
  });
  // New orders go through the intake, which writes concurrent ones together (see order-intake.ts).
  return { ...bound, placeOrder: intake.place };
}

export type Services = ReturnType<typeof createServices>;
