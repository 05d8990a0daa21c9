"""AASIST and AASIST-L (Jung et al., ICASSP 2022), at the sizes of the reference implementation.

Raw waveform -> fixed sinc filters (70 mel-spaced bands) -> |.|, 3x3 max-pool, BN, SELU -> six
2-D residual blocks over (band, time) -> two graphs: spectral nodes (max over time, one node per
band, plus a learned positional code) and temporal nodes (max over bands, one node per frame),
each refined by graph attention (GAT) and pooled to its top-k nodes -> **two** parallel
heterogeneous stacking graph attention branches (HS-GAL, each two layers with its own master node)
-> element-wise maximum of the two branches (nodes and master) -> readout (max of |nodes| and
mean of each node type, plus the master) -> 2 logits.

Sizes (``AASIST_SIZES``) and every layer follow the reference configuration files
(``AASIST.conf``: 297,866 parameters; ``AASIST-L.conf``: 85,306), so both counts are pinned in
``tests/models/test_aasist.py``. Two quirks of the reference code are kept on purpose, because
they change what the reference *computes* and a faithful copy must compute the same:

- its residual blocks build a pre-activation BatchNorm (``bn1``) but apply ``conv1`` to the block
  input, so that BatchNorm is never used (its parameters still count in the 297,866).
  ``preact=True`` applies it, as the paper's figure draws it;
- the second HS-GAL layer of both branches and all four HS-GAL pools use the third temperature and
  the third pool ratio of the config (the fourth entries are never read).

Differences that do not change the function: the sinc filters live in a buffer (they are fixed
in the reference too); it runs on a CPU (the reference script refuses to).

Example::

    net = build_model("aasist_l")
    logits = net(torch.randn(2, 64600))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS
from dfdetect.models.audio_features import SincConv

#: the reference configurations (config/AASIST.conf and config/AASIST-L.conf of clovaai/aasist)
AASIST_SIZES = {
    "aasist": {"channels": (32, 32, 64, 64, 64, 64), "gat_dims": (64, 32),
               "pool_ratios": (0.5, 0.7, 0.5, 0.5)},
    "aasist_l": {"channels": (32, 32, 24, 24, 24, 24), "gat_dims": (24, 32),
                 "pool_ratios": (0.4, 0.5, 0.7, 0.5)},
}


def _xavier(*size: int) -> nn.Parameter:
    w = torch.empty(*size)
    nn.init.xavier_normal_(w)
    return nn.Parameter(w)


def _bn_nodes(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm over the feature axis of (B, N, D) node features (every node is a sample)."""
    return bn(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def _pair_products(x: torch.Tensor) -> torch.Tensor:
    """(B, N, D) -> (B, N, N, D): x_i * x_j for every pair of nodes."""
    return x.unsqueeze(2) * x.unsqueeze(1)


class GraphAttention(nn.Module):
    """GAT over a fully connected graph: (B, N, D_in) -> (B, N, D_out).

    Attention of node i to node j: softmax over j of ``w . tanh(W (x_i * x_j)) / temperature``;
    output = SELU(BN(W_att (A x) + W_self x)); inputs see dropout 0.2.
    """

    def __init__(self, d_in: int, d_out: int, temperature: float = 1.0) -> None:
        super().__init__()
        self.att_proj = nn.Linear(d_in, d_out)
        self.att_weight = _xavier(d_out, 1)
        self.proj_with_att = nn.Linear(d_in, d_out)
        self.proj_without_att = nn.Linear(d_in, d_out)
        self.bn = nn.BatchNorm1d(d_out)
        self.input_drop = nn.Dropout(0.2)
        self.temperature = float(temperature)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_drop(x)
        score = torch.tanh(self.att_proj(_pair_products(x))) @ self.att_weight  # (B, N, N, 1)
        att = torch.softmax(score.squeeze(-1) / self.temperature, dim=-1)     # (B, N, N)
        out = self.proj_with_att(att @ x) + self.proj_without_att(x)
        return nn.functional.selu(_bn_nodes(self.bn, out))


class HSGraphAttention(nn.Module):
    """Heterogeneous stacking graph attention layer (HS-GAL) with a master node.

    Two node types are projected (one linear map each) and stacked into one graph. The attention
    weight vector depends on the pair of types (type1-type1, type2-type2, mixed); the master node
    attends to every node with its own weights and is updated without BN / activation.
    (B, N1, D_in), (B, N2, D_in), (B, 1, D_in) -> (B, N1, D_out), (B, N2, D_out), (B, 1, D_out).
    """

    def __init__(self, d_in: int, d_out: int, temperature: float = 1.0) -> None:
        super().__init__()
        self.proj_type1, self.proj_type2 = nn.Linear(d_in, d_in), nn.Linear(d_in, d_in)
        self.att_proj, self.att_proj_master = nn.Linear(d_in, d_out), nn.Linear(d_in, d_out)
        self.att_weight11, self.att_weight22 = _xavier(d_out, 1), _xavier(d_out, 1)
        self.att_weight12, self.att_weight_master = _xavier(d_out, 1), _xavier(d_out, 1)
        self.proj_with_att, self.proj_without_att = nn.Linear(d_in, d_out), nn.Linear(d_in, d_out)
        self.proj_with_att_master = nn.Linear(d_in, d_out)
        self.proj_without_att_master = nn.Linear(d_in, d_out)
        self.bn = nn.BatchNorm1d(d_out)
        self.input_drop = nn.Dropout(0.2)
        self.temperature = float(temperature)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, master: torch.Tensor):
        n1 = x1.shape[1]
        x = self.input_drop(torch.cat([self.proj_type1(x1), self.proj_type2(x2)], dim=1))
        pair = torch.tanh(self.att_proj(_pair_products(x)))                    # (B, N, N, D_out)
        is2 = torch.arange(x.shape[1], device=x.device) >= n1
        same1 = (~is2)[:, None] & (~is2)[None, :]
        same2 = is2[:, None] & is2[None, :]
        score = torch.where(same1, (pair @ self.att_weight11).squeeze(-1),
                            torch.where(same2, (pair @ self.att_weight22).squeeze(-1),
                                        (pair @ self.att_weight12).squeeze(-1)))  # (B, N, N)
        att = torch.softmax(score / self.temperature, dim=-1)
        m_score = torch.tanh(self.att_proj_master(x * master)) @ self.att_weight_master  # (B,N,1)
        m_att = torch.softmax(m_score / self.temperature, dim=1).transpose(1, 2)        # (B,1,N)
        master = self.proj_with_att_master(m_att @ x) + self.proj_without_att_master(master)
        out = self.proj_with_att(att @ x) + self.proj_without_att(x)
        out = nn.functional.selu(_bn_nodes(self.bn, out))
        return out[:, :n1], out[:, n1:], master


class GraphPool(nn.Module):
    """Keep the top ``ratio`` of nodes by a learned sigmoid score (dropout 0.3 on the scorer's
    input), each kept node scaled by its score: (B, N, D) -> (B, max(1, int(N ratio)), D)."""

    def __init__(self, dim: int, ratio: float, drop: float = 0.3) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, 1)
        self.drop = nn.Dropout(drop)
        self.ratio = float(ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.proj(self.drop(x)))                             # (B, N, 1)
        k = max(1, int(x.shape[1] * self.ratio))
        idx = s.topk(k, dim=1).indices.expand(-1, -1, x.shape[-1])             # (B, k, D)
        return (x * s).gather(1, idx)


class ResBlock2d(nn.Module):
    """conv(2,3)-BN-SELU-conv(2,3) + skip (a (1,3) conv when widths differ), then max-pool (1,3).

    ``bn1`` (absent in the first block) is the pre-activation the paper draws; the reference code
    builds it but feeds ``conv1`` the raw input, which is what ``preact=False`` reproduces.
    """

    def __init__(self, c_in: int, c_out: int, first: bool = False, preact: bool = False) -> None:
        super().__init__()
        self.bn1 = None if first else nn.BatchNorm2d(c_in)
        self.preact = preact and not first
        self.conv1 = nn.Conv2d(c_in, c_out, (2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, (2, 3), padding=(0, 1))
        self.skip = nn.Conv2d(c_in, c_out, (1, 3), padding=(0, 1)) if c_in != c_out else None
        self.pool = nn.MaxPool2d((1, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, F, T) -> (B, C_out, F, T/3)
        h = nn.functional.selu(self.bn1(x)) if self.preact else x
        h = self.conv2(nn.functional.selu(self.bn2(self.conv1(h))))
        return self.pool(h + (x if self.skip is None else self.skip(x)))


class AASIST(nn.Module):
    """Spectro-temporal graph attention on raw waveforms; (B, T) -> (B, num_classes)."""

    modality = "audio"

    def __init__(self, num_classes: int = 2, sinc_filters: int = 70, sinc_kernel: int = 128,
                 channels: tuple[int, ...] = (32, 32, 64, 64, 64, 64),
                 gat_dims: tuple[int, int] = (64, 32), pool_ratios=(0.5, 0.7, 0.5, 0.5),
                 temperatures=(2.0, 2.0, 100.0, 100.0), drop_rate: float = 0.5,
                 sample_rate: int = 16000, preact: bool = False) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.sinc = SincConv(sinc_filters, sinc_kernel, sample_rate)
        self.first_bn = nn.BatchNorm2d(1)
        ins = (1, *channels[:-1])
        self.encoder = nn.Sequential(*[ResBlock2d(i, o, first=n == 0, preact=preact)
                                       for n, (i, o) in enumerate(zip(ins, channels))])
        #: the reference's unused pre-activation BNs get no gradient (the model contract test
        #: reads this list)
        self.no_grad_parameters = () if preact else tuple(
            f"encoder.{n}.bn1.{p}" for n in range(1, len(channels)) for p in ("weight", "bias"))
        c, (g1, g2) = channels[-1], gat_dims
        self.pos_s = nn.Parameter(torch.randn(1, sinc_filters // 3, c))
        self.master1 = nn.Parameter(torch.randn(1, 1, g1))
        self.master2 = nn.Parameter(torch.randn(1, 1, g1))
        self.gat_s = GraphAttention(c, g1, temperatures[0])
        self.gat_t = GraphAttention(c, g1, temperatures[1])
        self.pool_s, self.pool_t = GraphPool(g1, pool_ratios[0]), GraphPool(g1, pool_ratios[1])
        # two branches, each: HS-GAL, pool both node types, stacked HS-GAL with a residual
        self.hs11, self.hs12 = HSGraphAttention(g1, g2, temperatures[2]), \
            HSGraphAttention(g2, g2, temperatures[2])
        self.hs21, self.hs22 = HSGraphAttention(g1, g2, temperatures[2]), \
            HSGraphAttention(g2, g2, temperatures[2])
        self.pool_hs1, self.pool_ht1 = GraphPool(g2, pool_ratios[2]), GraphPool(g2, pool_ratios[2])
        self.pool_hs2, self.pool_ht2 = GraphPool(g2, pool_ratios[2]), GraphPool(g2, pool_ratios[2])
        self.drop_way = nn.Dropout(0.2)
        self.drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(5 * g2, num_classes)

    def _nodes(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.sinc(wave).abs().unsqueeze(1)                          # (B, 1, 70, T)
        x = nn.functional.selu(self.first_bn(nn.functional.max_pool2d(x, (3, 3))))
        e = self.encoder(x).abs()                                       # (B, C, 23, T')
        spec = e.amax(dim=3).transpose(1, 2) + self.pos_s               # (B, 23, C)
        temp = e.amax(dim=2).transpose(1, 2)                            # (B, T', C)
        return self.pool_s(self.gat_s(spec)), self.pool_t(self.gat_t(temp))

    def _branch(self, first: HSGraphAttention, second: HSGraphAttention, pool_t: GraphPool,
                pool_s: GraphPool, t: torch.Tensor, s: torch.Tensor, master: torch.Tensor):
        t, s, master = first(t, s, master)
        t, s = pool_t(t), pool_s(s)
        t2, s2, m2 = second(t, s, master)
        return self.drop_way(t + t2), self.drop_way(s + s2), self.drop_way(master + m2)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        s, t = self._nodes(wave)                                        # (B, Ns, G1), (B, Nt, G1)
        b = wave.shape[0]
        t1, s1, m1 = self._branch(self.hs11, self.hs12, self.pool_ht1, self.pool_hs1, t, s,
                                  self.master1.expand(b, -1, -1))
        t2, s2, m2 = self._branch(self.hs21, self.hs22, self.pool_ht2, self.pool_hs2, t, s,
                                  self.master2.expand(b, -1, -1))
        t, s, m = torch.maximum(t1, t2), torch.maximum(s1, s2), torch.maximum(m1, m2)
        feats = torch.cat([t.abs().amax(1), t.mean(1), s.abs().amax(1), s.mean(1),
                           m.squeeze(1)], dim=1)                        # (B, 5*G2)
        return self.head(self.drop(feats))                              # (B, num_classes)


def _build(name: str, pretrained: str, num_classes: int, drop_rate: float, sample_rate: int,
           preact: bool) -> AASIST:
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained(name, pretrained)
    return AASIST(num_classes=num_classes, drop_rate=drop_rate or 0.5,
                  sample_rate=sample_rate, preact=preact, **AASIST_SIZES[name])


@MODELS.register("aasist")
def aasist(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.5,
           sample_rate: int = 16000, preact: bool = False) -> nn.Module:
    """AASIST as the reference AASIST.conf: 297,866 parameters (with 2 classes)."""
    return _build("aasist", pretrained, num_classes, drop_rate, sample_rate, preact)


@MODELS.register("aasist_l")
def aasist_l(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.5,
             sample_rate: int = 16000, preact: bool = False) -> nn.Module:
    """AASIST-L as the reference AASIST-L.conf: 85,306 parameters (with 2 classes)."""
    return _build("aasist_l", pretrained, num_classes, drop_rate, sample_rate, preact)
