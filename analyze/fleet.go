package analyze

// PartStores is the health of the stores behind a Thanos Query (/api/v1/stores). It is never
// a part an inventory holds: a store that is down is an error of its source, because Thanos
// then answers with less data without saying so.
const PartStores Part = "stores"
