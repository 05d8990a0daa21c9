"""AASIST and AASIST-L (Jung et al., ICASSP 2022), written from the paper's description.

Raw waveform -> fixed sinc filters -> 2-D residual encoder over (filter band, time) -> two graphs:
spectral nodes (max over time: one node per band) and temporal nodes (max over bands: one node per
time step), each refined by graph attention and pooled to its top-k nodes -> heterogeneous
stacking graph attention (HS-GAL) joins both node types with a master node -> readout (max of
|nodes| and mean, plus the master) -> 2 logits. Runs on a CPU (the reference refuses to).

Example::

    net = build_model("aasist_light")
    logits = net(torch.randn(2, 16000))   # (2, 2)
"""
from __future__ import annotations

import torch
from torch import nn

from dfdetect.models import MODELS
from dfdetect.models.audio_features import SincConv


class GraphAttention(nn.Module):
    """Graph attention on a fully connected graph: (B, N, D_in) -> (B, N, D_out).

    The attention between nodes i and j comes from their element-wise product (as AASIST does),
    sharpened by a temperature; output = W_att (A x) + W_self x, then BN and SELU.
    """

    def __init__(self, d_in: int, d_out: int, temperature: float = 2.0) -> None:
        super().__init__()
        self.att_proj = nn.Linear(d_in, d_out)
        self.att_weight = nn.Parameter(torch.randn(d_out, 1) * 0.1)
        self.with_att = nn.Linear(d_in, d_out)
        self.without_att = nn.Linear(d_in, d_out)
        self.bn = nn.BatchNorm1d(d_out)
        self.temperature = temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pair = x.unsqueeze(2) * x.unsqueeze(1)                         # (B, N, N, D_in)
        score = torch.tanh(self.att_proj(pair)) @ self.att_weight      # (B, N, N, 1)
        att = torch.softmax(score.squeeze(-1) / self.temperature, -1)  # (B, N, N)
        out = self.with_att(att @ x) + self.without_att(x)             # (B, N, D_out)
        return nn.functional.selu(self.bn(out.transpose(1, 2)).transpose(1, 2))


class GraphPool(nn.Module):
    """Keep the top ``ratio`` of nodes by a learned sigmoid score, scaled by it."""

    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.ratio = ratio

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, D) -> (B, k, D)
        s = torch.sigmoid(self.score(x))                                 # (B, N, 1)
        k = max(1, int(x.shape[1] * self.ratio))
        idx = s.squeeze(-1).topk(k, dim=1).indices                       # (B, k)
        gathered = x * s
        return gathered.gather(1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class HSGraphAttention(nn.Module):
    """Heterogeneous stacking graph attention over two node types plus a master node.

    Both node sets are projected to one width and stacked; attention uses one weight vector per
    pair of types (S-S, S-T / T-S, T-T); the master node attends to every node and is updated
    separately. (B, N1, D), (B, N2, D), (B, 1, D) -> same shapes with D_out.
    """

    def __init__(self, d_in: int, d_out: int, temperature: float = 100.0) -> None:
        super().__init__()
        self.proj1, self.proj2 = nn.Linear(d_in, d_in), nn.Linear(d_in, d_in)
        self.att_proj = nn.Linear(d_in, d_out)
        self.att_type = nn.Parameter(torch.randn(3, d_out) * 0.1)  # 11, 12/21, 22
        self.att_master_proj = nn.Linear(d_in, d_out)
        self.att_master = nn.Parameter(torch.randn(d_out) * 0.1)
        self.with_att, self.without_att = nn.Linear(d_in, d_out), nn.Linear(d_in, d_out)
        self.with_att_m, self.without_att_m = nn.Linear(d_in, d_out), nn.Linear(d_in, d_out)
        self.bn = nn.BatchNorm1d(d_out)
        self.temperature = temperature

    def _type_map(self, n1: int, n2: int, device) -> torch.Tensor:
        t = torch.cat([torch.zeros(n1), torch.ones(n2)]).to(device)
        return (t[:, None] + t[None]).long()  # (N, N): 0 same-1, 1 mixed, 2 same-2

    def forward(self, x1, x2, master):
        n1 = x1.shape[1]
        x = torch.cat([self.proj1(x1), self.proj2(x2)], dim=1)              # (B, N, D)
        pair = torch.tanh(self.att_proj(x.unsqueeze(2) * x.unsqueeze(1)))   # (B, N, N, D_out)
        w = self.att_type[self._type_map(n1, x2.shape[1], x.device)]        # (N, N, D_out)
        att = torch.softmax((pair * w).sum(-1) / self.temperature, dim=-1)  # (B, N, N)
        m_score = torch.tanh(self.att_master_proj(x * master)) @ self.att_master  # (B, N)
        m_att = torch.softmax(m_score / self.temperature, dim=-1).unsqueeze(1)  # (B, 1, N)
        master = self.with_att_m(m_att @ x) + self.without_att_m(master)   # (B, 1, D_out)
        out = self.with_att(att @ x) + self.without_att(x)                  # (B, N, D_out)
        out = nn.functional.selu(self.bn(out.transpose(1, 2)).transpose(1, 2))
        return out[:, :n1], out[:, n1:], master


class ResBlock2d(nn.Module):
    """BN-SELU-conv(2,3)-BN-SELU-conv(2,3) + skip, then max-pool (1, 3) along time."""

    def __init__(self, c_in: int, c_out: int, first: bool = False) -> None:
        super().__init__()
        self.pre = nn.Identity() if first else nn.Sequential(nn.BatchNorm2d(c_in), nn.SELU())
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, (2, 3), padding=(1, 1)), nn.BatchNorm2d(c_out), nn.SELU(),
            nn.Conv2d(c_out, c_out, (2, 3), padding=(0, 1)))
        self.skip = nn.Conv2d(c_in, c_out, (1, 3), padding=(0, 1)) if c_in != c_out \
            else nn.Identity()
        self.pool = nn.MaxPool2d((1, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, F, T) -> (B, C_out, F, T/3)
        return self.pool(self.body(self.pre(x)) + self.skip(x))


class AASIST(nn.Module):
    """Spectro-temporal graph attention on raw waveforms; (B, T) -> (B, num_classes)."""

    modality = "audio"

    def __init__(self, num_classes: int = 2, sinc_filters: int = 70, sinc_kernel: int = 128,
                 channels: tuple[int, ...] = (32, 32, 64, 64, 64, 64),
                 gat_dims: tuple[int, int] = (64, 32), pool_ratios=(0.5, 0.7, 0.5, 0.5),
                 temperatures=(2.0, 2.0, 100.0, 100.0), drop_rate: float = 0.5,
                 sample_rate: int = 16000, stem_pool: tuple[int, int] = (3, 3)) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)  # checked against the checkpoint's preprocessing
        self.sinc = SincConv(sinc_filters, sinc_kernel, sample_rate)
        self.stem = nn.Sequential(nn.MaxPool2d(stem_pool), nn.BatchNorm2d(1), nn.SELU())
        ins = (1, *channels[:-1])
        self.encoder = nn.Sequential(*[ResBlock2d(i, o, first=n == 0)
                                       for n, (i, o) in enumerate(zip(ins, channels))])
        c, (g1, g2) = channels[-1], gat_dims
        self.pos_s = nn.Parameter(torch.zeros(1, sinc_filters // stem_pool[0], c))
        self.gat_s, self.gat_t = GraphAttention(c, g1, temperatures[0]), \
            GraphAttention(c, g1, temperatures[1])
        self.pool_s, self.pool_t = GraphPool(g1, pool_ratios[0]), GraphPool(g1, pool_ratios[1])
        self.master = nn.Parameter(torch.randn(1, 1, g1) * 0.1)
        self.hs1 = HSGraphAttention(g1, g2, temperatures[2])
        self.hs2 = HSGraphAttention(g2, g2, temperatures[3])
        self.pool_hs_s, self.pool_hs_t = GraphPool(g2, pool_ratios[2]), GraphPool(g2, pool_ratios[3])
        self.drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(5 * g2, num_classes)

    def _graphs(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.sinc(wave).abs().unsqueeze(1)               # (B, 1, S, T)
        e = self.encoder(self.stem(x))                       # (B, C, S/3, T')
        spec = e.abs().amax(dim=3).transpose(1, 2)           # (B, S/3, C) one node per band
        spec = spec + self.pos_s[:, : spec.shape[1]]
        temp = e.abs().amax(dim=2).transpose(1, 2)           # (B, T', C) one node per frame
        return self.pool_s(self.gat_s(spec)), self.pool_t(self.gat_t(temp))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        s, t = self._graphs(wave)                            # (B, Ns, G1), (B, Nt, G1)
        m = self.master.expand(wave.shape[0], -1, -1)        # (B, 1, G1)
        s, t, m = self.hs1(s, t, m)
        s, t = self.pool_hs_s(s), self.pool_hs_t(t)
        s2, t2, m2 = self.hs2(s, t, m)                       # stacked layer, residual
        s, t, m = s + s2, t + t2, m + m2
        feats = torch.cat([t.abs().amax(1), t.mean(1), s.abs().amax(1), s.mean(1),
                           m.squeeze(1)], dim=1)             # (B, 5*G2)
        return self.head(self.drop(feats))                   # (B, num_classes)


@MODELS.register("aasist")
def aasist(pretrained: str = "false", num_classes: int = 2, drop_rate: float = 0.5,
           sample_rate: int = 16000) -> nn.Module:
    """AASIST at the paper's sizes (268 k parameters here; the paper reports 297 k)."""
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("aasist", pretrained)
    return AASIST(num_classes=num_classes, drop_rate=drop_rate or 0.5, sample_rate=sample_rate)


@MODELS.register("aasist_light")
def aasist_light(pretrained: str = "false", num_classes: int = 2,
                 drop_rate: float = 0.5, sample_rate: int = 16000) -> nn.Module:
    """A CPU-sized AASIST in the spirit of AASIST-L (4 encoder blocks, narrow graphs).

    Besides AASIST-L's narrower encoder, the sinc output is pooled 6x (not 3x) in time and the
    first block has 16 channels: on a CPU the full-resolution first block is most of AASIST's
    time, and this makes the model several times cheaper (measured in bench/audio.py).
    """
    from dfdetect.models.audio_timm import no_pretrained

    no_pretrained("aasist_light", pretrained)
    return AASIST(num_classes=num_classes, channels=(16, 24, 24, 24), gat_dims=(24, 32),
                  pool_ratios=(0.4, 0.5, 0.7, 0.5), drop_rate=drop_rate or 0.5,
                  stem_pool=(3, 6), sample_rate=sample_rate)
