"""Facet heads over fused features (torch): a concatenation baseline and VBG-style cross-attention, with the
loss of each hierarchy mode (:mod:`enrich.classify.hierarchy`).

Inputs are the feature sources in name order (e.g. ``clip:image``, ``clip:text``, ``minilm:text``), each a
(batch x dim) tensor of pooled, L2-normalised embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from enrich.classify.hierarchy import HierarchyMode, sibling_groups

Fusion = Literal["concat", "cross-attention"]
FUSIONS: tuple[Fusion, ...] = ("concat", "cross-attention")


class ConcatFusion(nn.Module):
    """Each source layer-normalised (sources differ in scale), concatenated, then a one-hidden-layer MLP."""

    def __init__(self, dims: Sequence[int], n_out: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for dim in dims)
        self.mlp = nn.Sequential(nn.Linear(sum(dims), hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        fused = torch.cat([norm(x) for norm, x in zip(self.norms, inputs, strict=True)], dim=-1)
        out: Tensor = self.mlp(fused)
        return out


class CrossAttentionFusion(nn.Module):
    """Bidirectional cross-attention between modalities, as in VBG (text attends to image and image to text).

    VBG attends between ViT patch tokens and BERT word tokens. Our inputs are pooled vectors (one per
    source), which give attention nothing to choose from, so each vector is first projected to ``tokens``
    learned tokens (a linear map to ``tokens x width`` plus a learned position per token): each token is a
    different learned view of the embedding. Each source's tokens then attend to the tokens of all the other
    sources (with a single source, to its own: self-attention), followed by a feed-forward block with
    residuals and layer norms; each source's tokens are mean-pooled and the pooled vectors are concatenated
    for the output layer.
    """

    def __init__(
        self,
        dims: Sequence[int],
        n_out: int,
        width: int = 64,
        tokens: int = 4,
        heads: int = 4,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"the attention width {width} must be a multiple of the heads ({heads})")
        self.tokens = tokens
        self.width = width
        self.project = nn.ModuleList(nn.Linear(dim, tokens * width) for dim in dims)
        self.position = nn.Parameter(torch.randn(len(dims), tokens, width) * 0.02)
        self.attend = nn.ModuleList(
            nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True) for _ in dims
        )
        self.norm_attention = nn.ModuleList(nn.LayerNorm(width) for _ in dims)
        self.feed_forward = nn.ModuleList(
            nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * width, width))
            for _ in dims
        )
        self.norm_output = nn.ModuleList(nn.LayerNorm(width) for _ in dims)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(len(dims) * width, n_out))

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        batch = inputs[0].shape[0]
        tokens = [
            project(x).view(batch, self.tokens, self.width) + self.position[i]
            for i, (project, x) in enumerate(zip(self.project, inputs, strict=True))
        ]
        pooled = []
        for i, own in enumerate(tokens):
            others = [t for j, t in enumerate(tokens) if j != i]
            context = torch.cat(others, dim=1) if others else own
            attended, _ = self.attend[i](own, context, context, need_weights=False)
            hidden = self.norm_attention[i](own + attended)
            hidden = self.norm_output[i](hidden + self.feed_forward[i](hidden))
            pooled.append(hidden.mean(dim=1))
        out: Tensor = self.out(torch.cat(pooled, dim=-1))
        return out


def build_head(
    fusion: Fusion,
    dims: Sequence[int],
    n_out: int,
    hidden: int = 256,
    dropout: float = 0.1,
    width: int = 64,
    tokens: int = 4,
    heads: int = 4,
) -> nn.Module:
    if fusion == "concat":
        return ConcatFusion(dims, n_out, hidden, dropout)
    if fusion == "cross-attention":
        return CrossAttentionFusion(dims, n_out, width, tokens, heads, dropout)
    raise ValueError(f"unknown fusion {fusion!r} (known: {', '.join(FUSIONS)})")


class HierarchyLoss(nn.Module):
    """The training loss of a hierarchy mode, over (batch x concepts) logits, targets and a known-mask.

    - ``multilabel``: binary cross-entropy per concept, positives weighted by ``pos_weight`` (imbalance);
    - ``conditional``: the same, but a concept only counts where its parent is positive (it learns
      P(c | parent));
    - ``softmax``: cross-entropy of each node's softmax over its children, where the node is positive and
      some child is (several positive children share the target mass equally).

    ``pos_weight`` (per concept: negatives / positives among the entries that count, between 1 and a limit)
    handles class imbalance. It moves the optimum logit up by log(pos_weight), a shift
    :meth:`prior_offsets` gives back so calibration can take it off again.
    """

    parent_index: Tensor
    is_top: Tensor
    groups: Tensor
    pos_weight: Tensor

    def __init__(
        self, mode: HierarchyMode, parents: Sequence[int], targets: Tensor, mask: Tensor, limit: float
    ) -> None:
        super().__init__()
        self.mode = mode
        self.register_buffer("parent_index", torch.tensor([max(p, 0) for p in parents], dtype=torch.long))
        self.register_buffer("is_top", torch.tensor([p < 0 for p in parents], dtype=torch.bool))
        self.register_buffer("groups", torch.from_numpy(sibling_groups(parents)))
        self.n_groups = len(parents) + 1
        counted = self.counted(targets, mask)
        positives = (targets * counted).sum(dim=0)
        negatives = ((1.0 - targets) * counted).sum(dim=0)
        weight = (negatives / positives.clamp(min=1.0)).clamp(min=1.0, max=limit)
        self.register_buffer("pos_weight", weight if mode != "softmax" else torch.ones_like(weight))

    def counted(self, targets: Tensor, mask: Tensor) -> Tensor:
        """Which entries a binary loss counts: the known ones (conditional: below a positive parent only)."""
        if self.mode != "conditional":
            return mask
        parent_positive = targets[:, self.parent_index] > 0.5
        return mask * (parent_positive | self.is_top).to(mask.dtype)

    def prior_offsets(self) -> list[float]:
        return [float(v) for v in self.pos_weight.log().cpu()]

    def forward(self, logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
        if self.mode == "softmax":
            return self._softmax_loss(logits, targets, mask)
        weights = self.counted(targets, mask)
        losses = nn.functional.binary_cross_entropy_with_logits(
            logits, targets, pos_weight=self.pos_weight, reduction="none"
        )
        return (losses * weights).sum() / weights.sum().clamp(min=1.0)

    def _softmax_loss(self, logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
        batch = logits.shape[0]
        groups = self.groups.expand(batch, -1)
        # log-softmax within each sibling group, with segment max / sum over the group ids
        top = torch.full((batch, self.n_groups), -torch.inf, dtype=logits.dtype, device=logits.device)
        top = top.scatter_reduce(1, groups, logits, reduce="amax", include_self=True)
        shifted = logits - top.gather(1, groups)
        sums = torch.zeros((batch, self.n_groups), dtype=logits.dtype, device=logits.device)
        sums = sums.scatter_add(1, groups, shifted.exp())
        log_probs = shifted - sums.gather(1, groups).log()
        mass = torch.zeros_like(sums).scatter_add(1, groups, targets)
        share = targets / mass.gather(1, groups).clamp(min=1e-12)
        active_parent = (targets[:, self.parent_index] > 0.5) | self.is_top
        # Only fully known records: a record known only by its rejections says nothing about which child is right.
        known = (mask.min(dim=1, keepdim=True).values > 0.5).to(logits.dtype)
        weights = active_parent.to(logits.dtype) * known
        loss = -(share * log_probs * weights).sum()
        return loss / known.sum().clamp(min=1.0)
