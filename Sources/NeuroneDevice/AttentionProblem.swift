/// The sizes of multi-head attention: q [batch, queries, heads·headDim], k and v [batch, keys,
/// heads·headDim].
package struct AttentionProblem {
    package var dtype: DType
    package var batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int

    package init(dtype: DType, batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int) {
        (self.dtype, self.batch, self.queries, self.keys, self.heads, self.headDim) = (dtype, batch, queries, keys, heads, headDim)
    }
}
