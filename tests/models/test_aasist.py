"""AASIST / AASIST-L at the reference implementation's sizes, and what their forward computes."""
from __future__ import annotations

import pytest
import torch

from dfdetect.models import build_model
from dfdetect.models.aasist import AASIST, AASIST_SIZES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("name,count", [("aasist", 297_866), ("aasist_l", 85_306)])
def test_parameter_count_and_output_shape_are_the_reference_ones(name, count):
    net = build_model(name).eval()
    assert n_params(net) == count  # clovaai/aasist config/AASIST.conf, AASIST-L.conf
    with torch.no_grad():  # the reference trains on 64,600 samples; any length works
        assert net(torch.randn(3, 16000)).shape == (3, 2)


def test_graph_sizes_follow_the_reference_config():
    """23 spectral nodes (70 sinc bands / 3) pooled by the first ratio; the temporal graph by
    the second; both HS-GAL branches pool with the third ratio."""
    net = build_model("aasist").eval()
    with torch.no_grad():
        s, t = net._nodes(torch.randn(1, 16000))
    assert s.shape == (1, int(23 * 0.5), 64)
    seen = {}
    net.pool_hs2.register_forward_hook(lambda m, i, o: seen.update(s=o.shape) and None)
    net.pool_ht1.register_forward_hook(lambda m, i, o: seen.update(t=o.shape) and None)
    with torch.no_grad():
        net(torch.randn(1, 16000))
    assert seen["s"] == (1, int(s.shape[1] * 0.5), 32)
    assert seen["t"] == (1, int(t.shape[1] * 0.5), 32)
    assert AASIST_SIZES["aasist_l"]["gat_dims"] == (24, 32)


def test_both_branches_reach_the_output_through_an_elementwise_max():
    """Changing either branch's master node changes the logits (both branches are used), and
    the readout equals the one computed by hand from the element-wise max of the branches."""
    torch.manual_seed(0)
    net = build_model("aasist_l").eval()
    x = torch.randn(2, 8000)
    with torch.no_grad():
        base = net(x)
        s, t = net._nodes(x)
        b1 = net._branch(net.hs11, net.hs12, net.pool_ht1, net.pool_hs1, t, s,
                         net.master1.expand(2, -1, -1))
        b2 = net._branch(net.hs21, net.hs22, net.pool_ht2, net.pool_hs2, t, s,
                         net.master2.expand(2, -1, -1))
        tm, sm, mm = (torch.maximum(a, b) for a, b in zip(b1, b2))
        feats = torch.cat([tm.abs().amax(1), tm.mean(1), sm.abs().amax(1), sm.mean(1),
                           mm.squeeze(1)], 1)
        torch.testing.assert_close(net.head(feats), base)
        for master in (net.master1, net.master2):
            saved = master.clone()
            master.add_(3.0)
            assert not torch.allclose(net(x), base, atol=1e-4)
            master.copy_(saved)
        # each branch alone gives other features than the max of both
        assert not torch.allclose(torch.maximum(b1[2], b2[2]), b1[2])
        assert not torch.allclose(torch.maximum(b1[2], b2[2]), b2[2])


def test_preact_applies_the_blocks_first_batchnorm_without_changing_the_parameters():
    """The reference builds bn1 but feeds conv1 the raw input (preact=False); preact=True uses it."""
    ref, paper = AASIST(preact=False).eval(), AASIST(preact=True).eval()
    paper.load_state_dict(ref.state_dict())
    with torch.no_grad():
        for blk in (*ref.encoder[1:], *paper.encoder[1:]):
            blk.bn1.running_mean.fill_(5.0)  # a bn1 that is applied must shift the output
        x = torch.randn(1, 8000, generator=torch.Generator().manual_seed(1))
        assert n_params(ref) == n_params(paper) == 297_866
        assert not torch.allclose(ref(x), paper(x))
        before = ref(x)
        for blk in ref.encoder[1:]:
            blk.bn1.running_mean.fill_(-5.0)
        torch.testing.assert_close(ref(x), before)  # unused, as in the reference
    assert len(ref.no_grad_parameters) == 10 and paper.no_grad_parameters == ()
