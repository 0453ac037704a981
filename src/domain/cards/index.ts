/** Pure card builders: an OrderView (or a little context) in, a neutral Card in the reader's language out. */
export { approvalCard, type ApprovalCardContext } from "./approval-card";
export { chooseCard, type ChooseContext } from "./choose-card";
export { cardPlainText, customerDigestCard } from "./customer-digest";
export { helpCard, type HelpContext } from "./help-card";
export { newOrderCard, type NewOrderContext } from "./new-order-card";
export { noticeText, type NoticeKey, type NoticeParams } from "./notice-text";
export { orderConfirmedNoticeCard } from "./order-confirmed-notice-card";
export { orderListCard } from "./order-list-card";
export { orderPreviewCard, type OrderPreviewContext } from "./order-preview-card";
export { orderStatusCard } from "./order-status-card";
export { rejectReasonCard } from "./reject-reason-card";
export { shipmentNoticeCard } from "./shipment-notice-card";
export { statusTone, type CardContext } from "./shared";
export { stockCard, type StockCardContext, type StockItem } from "./stock-card";
export { warehousePickCard } from "./warehouse-pick-card";
