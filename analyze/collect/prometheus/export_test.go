package prometheus

// CounterBatchNames is the most names one counter history query asks about.
const CounterBatchNames = counterBatchNames
